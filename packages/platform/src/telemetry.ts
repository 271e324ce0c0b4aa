import { readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CollectorConfig, PushRecord } from '@sprout/collector';
import type { Logger } from '@sprout/observe';
import type { Registry } from '@sprout/observe/metrics';
import { CollectorProcess, type CollectorInputInfo } from './collector-process.js';
import { PlatformError } from './errors.js';
import type { EventBus } from './events.js';
import type { FunctionLogLine, LogTap } from './logs.js';

/** Tag of the gateway's metric records. */
const GATEWAY_METRICS_TAG = 'sprout.gateway.metrics';

/** Tag of a function's log records: `fn.<namespace>.<function>`. */
function functionLogTag(namespace: string, fn: string): string {
  return `fn.${namespace}.${fn}`;
}

export interface TelemetryOptions {
  /** A fluent-bit YAML config; its filters and outputs receive the platform's records, its inputs run too. */
  configFile?: string;
  /** Where the default pipeline writes (`<dataDir>/logs/<tag>`, JSON lines). */
  dataDir: string;
  logs: LogTap;
  /** The registry scraped into metric records (the gateway's). */
  metrics: Registry;
  /** Default pipeline only: files over this size are moved to `<file>.1` at start; default 64 MiB. */
  rotateBytes?: number;
  /** Scrape interval in ms; default 10,000 (fluent-bit's prometheus_scrape default). */
  scrapeIntervalMs?: number;
  logger: Logger;
  /** Where the collector's crashes and restarts are published. */
  events?: EventBus;
  /** Restart delays of a collector that stopped (1 s doubled up to 30 s by default). */
  restartBackoff?: { baseMs: number; maxMs: number };
}

/** The collector running beside `sprout dev`, in a process of its own. */
export interface Telemetry {
  collector: CollectorProcess;
  /** The collector's inputs and where they listen (none while it is down). */
  inputs(): CollectorInputInfo[];
  /** The collector's own metrics, Prometheus text (empty while it is down). */
  metricsText(): Promise<string>;
  /** Where the default pipeline writes, when no config file was given. */
  logDir?: string;
  /** Scrapes the metrics now (also done every interval and at close). */
  scrape(): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_ROTATE_BYTES = 64 * 1024 * 1024;

/**
 * Keeps the default pipeline's files from growing without end across sessions: at start, a file
 * over `limit` bytes becomes `<file>.1` (replacing the previous one) and a new file is begun.
 */
function rotateLarge(dir: string, limit: number): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // not created yet
  }
  for (const name of names) {
    if (name.endsWith('.1')) continue;
    const file = join(dir, name);
    try {
      if (statSync(file).size > limit) renameSync(file, `${file}.1`);
    } catch {
      // Gone or unreadable: the file output reports problems when it writes.
    }
  }
}

/** The pipeline used without `--collector`: every record as JSON lines in a file named after its tag. */
function defaultPipelineYaml(logDir: string): string {
  return [
    'pipeline:',
    '  outputs:',
    '    - name: file',
    "      match: '*'",
    `      path: ${JSON.stringify(logDir)}`,
    '      format: json_lines',
    '      mkdir: true',
    '',
  ].join('\n');
}

/**
 * Starts the collector that `sprout dev` runs: every function instance's stdout and stderr lines
 * become records tagged `fn.<namespace>.<function>` (the body shaped like fluent-bit's tail input
 * after its kubernetes filter), and the gateway's metrics are scraped every interval into metric
 * records tagged `sprout.gateway.metrics`. Both go through the config's filters and outputs.
 */
export async function startTelemetry(o: TelemetryOptions): Promise<Telemetry> {
  const { loadConfig, parseConfig } = await import('@sprout/collector');
  const logDir = o.configFile ? undefined : join(o.dataDir, 'logs');
  if (logDir) rotateLarge(logDir, o.rotateBytes ?? DEFAULT_ROTATE_BYTES);
  let config: CollectorConfig;
  try {
    config = o.configFile ? loadConfig(o.configFile) : parseConfig(defaultPipelineYaml(logDir!));
  } catch (err) {
    const e = err as { code?: string; message: string };
    throw new PlatformError(
      'SPROUT_ERR_PLATFORM_COLLECTOR',
      `the collector config ${o.configFile ?? '(default)'} is invalid: ${e.code ? `${e.code}: ` : ''}${e.message}`,
      500,
      { cause: err },
    );
  }
  if (!config.outputs.length) {
    throw new PlatformError(
      'SPROUT_ERR_PLATFORM_COLLECTOR',
      `the collector config ${o.configFile} has no outputs; add pipeline.outputs (e.g. name: stdout, match: '*')`,
    );
  }
  const log = o.logger.child({ component: 'collector' });
  // Its own process: a collector that fails at run time is restarted, never the end of sprout dev.
  const collector = new CollectorProcess({
    pipeline: o.configFile ? { configFile: o.configFile } : { yaml: defaultPipelineYaml(logDir!) },
    logger: log,
    ...(o.events ? { events: o.events } : {}),
    ...(o.restartBackoff ? { backoff: o.restartBackoff } : {}),
  });
  await collector.start();
  log.info({ pid: collector.pid }, 'collector running');

  // Lines are batched per event-loop turn: one push (and one promise) per burst, not per line.
  let batch: PushRecord[] = [];
  let scheduled = false;
  const send = () => {
    scheduled = false;
    const records = batch;
    batch = [];
    collector.push(records);
  };
  const unsubscribe = o.logs.subscribe((l: FunctionLogLine) => {
    batch.push({
      tag: functionLogTag(l.namespace, l.function),
      time: l.time,
      body: {
        log: l.line,
        stream: l.stream,
        kubernetes: {
          namespace_name: l.namespace,
          pod_name: l.instance,
          container_name: l.function,
        },
      },
    });
    if (!scheduled) {
      scheduled = true;
      setImmediate(send);
    }
  });

  const scrape = async () => {
    const time = BigInt(Date.now()) * 1_000_000n;
    const records: PushRecord[] = [];
    for (const metric of await o.metrics.getMetricsAsJSON()) {
      for (const v of metric.values) {
        const name = (v as { metricName?: string }).metricName ?? metric.name;
        const labels = Object.fromEntries(Object.entries(v.labels).map(([k, x]) => [k, String(x)]));
        records.push({
          tag: GATEWAY_METRICS_TAG,
          time,
          kind: 'metric',
          body: {
            name,
            type: metric.type,
            value: v.value,
            ...(Object.keys(labels).length ? { labels } : {}),
          },
        });
      }
    }
    if (records.length) collector.push(records);
  };
  const interval = o.scrapeIntervalMs ?? 10_000;
  const timer = setInterval(() => {
    scrape().catch((err: unknown) => log.warn({ err }, 'gateway metrics scrape failed'));
  }, interval);
  timer.unref();

  return {
    collector,
    inputs: () => collector.inputs(),
    metricsText: () => collector.metricsText(),
    ...(logDir ? { logDir } : {}),
    scrape,
    async close() {
      clearInterval(timer);
      unsubscribe();
      if (batch.length) send();
      await scrape().catch((err: unknown) => log.warn({ err }, 'final gateway metrics scrape failed'));
      await collector.close();
    },
  };
}
