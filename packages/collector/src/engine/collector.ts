import type { Server } from 'node:http';
import { createLogger, type Logger } from '@sprout/observe';
import { createMetrics, type Registry } from '@sprout/observe/metrics';
import type { CollectorConfig } from '../config/load.js';
import type { InputInstance, OutputInstance } from '../plugin.js';
import { collectorMetrics } from './metrics.js';
import { startMonitor } from './monitor.js';
import { createRecordFlow, type PushRecord } from './record-flow.js';
import { buildFilters, buildInputs, buildOutputs, type BuiltInput } from './wiring.js';

export type { PushRecord } from './record-flow.js';

export interface CollectorOptions {
  logger?: Logger;
  /** Metrics registry to register on; a fresh one by default. */
  metrics?: Registry;
  /** Replaces each output's instance (config tests capture records this way). */
  outputOverride?: (id: string) => OutputInstance;
  /** Skip the configured inputs (only `push` feeds the pipeline). */
  withoutInputs?: boolean;
}

export interface Collector {
  /** Opens every input's socket and starts the outputs. */
  start(): Promise<void>;
  /** Stops the inputs, flushes every output (up to `service.grace` seconds), closes everything. */
  close(): Promise<void>;
  /**
   * Feeds records in-process (the platform uses this for function logs). Resolves when they are
   * accepted, honouring `mem_buf_limit` of the `push` input (default 64M).
   */
  push(records: PushRecord | PushRecord[]): Promise<void>;
  /** Seals open batches and waits until every output is idle. */
  flush(timeoutMs?: number): Promise<boolean>;
  /** Each input's id and listening address, after start. */
  inputs(): Array<{
    id: string;
    plugin: string;
    address?: ReturnType<NonNullable<InputInstance['address']>>;
  }>;
  metrics: Registry;
  /** Address of the `http_server` monitoring endpoint when enabled. */
  monitorAddress(): { host: string; port: number } | undefined;
}

/**
 * Builds a collector from a validated config: its inputs, filters and outputs wired to one record
 * flow, started and closed in order.
 *
 * @example
 * const c = createCollector(parseConfig(yamlText));
 * await c.start();
 * await c.push({ tag: 'fn.hello', body: { log: 'hi' } });
 * await c.close();
 */
export function createCollector(config: CollectorConfig, options: CollectorOptions = {}): Collector {
  const log =
    options.logger ??
    createLogger({
      name: 'collector',
      level: config.service.log_level === 'off' ? 'silent' : config.service.log_level,
    });
  const registry = options.metrics ?? createMetrics();
  const m = collectorMetrics(registry);
  const filters = buildFilters(config);
  const runners = buildOutputs(config, log, m, options.outputOverride);
  const flow = createRecordFlow(filters, runners, m, log);
  const instances: BuiltInput[] = options.withoutInputs ? [] : buildInputs(config, flow, log, m);

  let closed = false;
  let monitor: Server | undefined;
  return {
    metrics: registry,
    async start() {
      const started: InputInstance[] = [];
      try {
        for (const { instance } of instances) {
          await instance.start();
          started.push(instance);
        }
        if (config.service.http_server)
          monitor = await startMonitor(config.service.http_listen, config.service.http_port, registry, log);
      } catch (err) {
        await Promise.allSettled(started.map((i) => i.close()));
        throw err;
      }
      log.info(
        { inputs: instances.map((i) => i.cfg.id), outputs: config.outputs.map((o) => o.id) },
        'collector started',
      );
    },
    async close() {
      if (closed) return;
      await Promise.allSettled(instances.map((i) => i.instance.close()));
      closed = true;
      flow.stop();
      const graceMs = config.service.grace * 1000;
      const drained = await Promise.all(runners.map((r) => r.runner.drain(graceMs)));
      if (drained.some((d) => !d))
        log.warn(
          { graceSeconds: config.service.grace },
          'grace period over with batches undelivered (disk chunks stay for the next run)',
        );
      await Promise.allSettled(runners.map((r) => r.runner.close()));
      flow.wakeAll();
      if (monitor) await new Promise((r) => monitor!.close(r));
    },
    push: flow.push,
    async flush(timeoutMs = 30_000) {
      const r = await Promise.all(runners.map((x) => x.runner.drain(timeoutMs)));
      return r.every(Boolean);
    },
    inputs: () =>
      instances.map(({ cfg, instance }) => ({
        id: cfg.id,
        plugin: cfg.plugin.name,
        ...(instance.address ? { address: instance.address() } : {}),
      })),
    monitorAddress() {
      const a = monitor?.address();
      return a && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
    },
  };
}
