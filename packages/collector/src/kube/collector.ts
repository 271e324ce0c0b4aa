import { isAbsolute } from 'node:path';
import type { CollectorConfig } from '../config/load.js';
import { API, PIPELINE_LABEL, dns, type Obj } from './common.js';

/** Where Fluent Operator mounts a Collector's buffer volume unless told otherwise. */
const OPERATOR_BUFFER_PATH = '/buffers/fluentbit/log';

/**
 * The buffer path in the cluster: `storage.path` when absolute; a relative one (a folder of this
 * machine) becomes the operator's buffer volume path, with a note saying so.
 */
export function clusterBufferPath(config: CollectorConfig): { path?: string; note?: string } {
  const path = config.service['storage.path'];
  if (!path || isAbsolute(path)) return path ? { path } : {};
  return {
    path: OPERATOR_BUFFER_PATH,
    note: `service: storage.path is ${OPERATOR_BUFFER_PATH} (the Collector's buffer volume), not ${path}: a relative path names a folder of this machine`,
  };
}

/**
 * Renders a Fluent Operator `Collector` (the fluent-bit StatefulSet) exposing every input's port,
 * with its buffer path when the config buffers to disk. It runs the ClusterFluentBitConfig of the
 * same name (`renderManifests` renders it).
 */
export function renderCollector(
  config: CollectorConfig,
  opts: { name: string; namespace: string; image?: string },
): Obj {
  const ports = config.inputs
    .map((i) => {
      const o = i.options as { port?: number; mode?: string; unix_path?: string };
      if (
        typeof o.port !== 'number' ||
        o.port === 0 ||
        (i.plugin.name === 'syslog' && o.mode?.startsWith('unix')) ||
        (i.plugin.name === 'forward' && o.unix_path) ||
        i.plugin.name === 'nginx_metrics'
      )
        return undefined;
      const udp =
        i.plugin.name === 'statsd' ||
        i.plugin.name === 'collectd' ||
        (i.plugin.name === 'syslog' && o.mode === 'udp');
      return {
        name: dns(i.id).replace(/\./g, '-').slice(0, 15).replace(/-+$/, ''),
        containerPort: o.port,
        protocol: udp ? 'UDP' : 'TCP',
      };
    })
    .filter((p) => p !== undefined);
  const name = dns(opts.name);
  const spec: Obj = {
    image: opts.image ?? 'ghcr.io/fluent/fluent-operator/fluent-bit:3.1.8',
    fluentBitConfigName: name,
  };
  const buffer = clusterBufferPath(config).path;
  if (buffer) spec.bufferPath = buffer;
  if (ports.length) spec.ports = ports;
  return {
    apiVersion: API,
    kind: 'Collector',
    metadata: { name, namespace: opts.namespace, labels: { [PIPELINE_LABEL]: name } },
    spec,
  };
}
