import type { CollectorConfig } from '../config/load.js';
import { clusterBufferPath } from './collector.js';
import { API, PIPELINE_LABEL, isLoopback, meta, type Obj } from './common.js';

/** fluent-bit's log levels by the CRD's names (`warn` is `warning` there). */
const LOG_LEVEL: Record<string, string> = { warn: 'warning' };

/** The `service` section: what differs from fluent-bit's defaults, plus the parsers file. */
function service(config: CollectorConfig, notes: string[]): Obj {
  const s = config.service;
  // parsers.conf of the image holds fluent-bit's built-in parsers and includes the ClusterParsers.
  const out: Obj = { parsersFile: 'parsers.conf' };
  if (s.flush !== 1) out.flushSeconds = s.flush;
  if (s.grace !== 5) out.graceSeconds = Math.ceil(s.grace);
  if (s.log_level !== 'info') out.logLevel = LOG_LEVEL[s.log_level] ?? s.log_level;
  if (s.http_server) {
    out.httpServer = true;
    out.httpListen = '0.0.0.0';
    if (s.http_listen !== '0.0.0.0' && s.http_listen !== '::')
      notes.push(
        `service: http_listen is 0.0.0.0, not ${s.http_listen}: ${isLoopback(s.http_listen) ? 'a loopback address is unreachable from other pods' : "an address of this machine is not one of the pod's"}`,
      );
    if (s.http_port !== 2020) out.httpPort = s.http_port;
  }
  const buffer = clusterBufferPath(config);
  if (buffer.path) {
    out.storage = {
      path: buffer.path,
      ...(s['storage.sync'] !== 'normal' ? { sync: s['storage.sync'] } : {}),
    };
    if (buffer.note) notes.push(buffer.note);
  }
  if (s['scheduler.base'] !== 5) out.schedulerBase = Math.ceil(s['scheduler.base']);
  if (s['scheduler.cap'] !== 2000) out.schedulerCap = Math.ceil(s['scheduler.cap']);
  return out;
}

/**
 * Renders the `ClusterFluentBitConfig` the Collector runs: its service section, and selectors that
 * pick exactly the objects labelled with this pipeline (an empty selector would pick every object
 * of that kind in the cluster, so each is set, the multiline parser one included).
 */
export function renderFluentBitConfig(
  config: CollectorConfig,
  opts: { name: string; pipeline: string },
): { manifest: Obj; notes: string[] } {
  const notes: string[] = [];
  // A fresh object each: YAML would write a shared one as an anchor and aliases.
  const selector = () => ({ matchLabels: { [PIPELINE_LABEL]: opts.pipeline } });
  const manifest: Obj = {
    apiVersion: API,
    kind: 'ClusterFluentBitConfig',
    metadata: meta(opts.name, opts.pipeline),
    spec: {
      service: service(config, notes),
      inputSelector: selector(),
      filterSelector: selector(),
      outputSelector: selector(),
      parserSelector: selector(),
      multilineParserSelector: selector(),
    },
  };
  return { manifest, notes };
}
