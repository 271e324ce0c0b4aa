import { join } from 'node:path';
import type { Logger } from '@sprout/observe';
import type { CollectorConfig, InputConfig } from '../config/load.js';
import { CollectorError, type CollectorErrorCode } from '../errors.js';
import type { InputInstance, OutputInstance } from '../plugin.js';
import type { CollectorMetrics } from './metrics.js';
import { OutputRunner } from './output-runner.js';
import type { FilterStep, OutputRoute, RecordFlow } from './record-flow.js';
import { route } from './route.js';
import { ChunkStore } from './storage.js';

/** Each configured filter with its route. */
export function buildFilters(config: CollectorConfig): FilterStep[] {
  return config.filters.map((f) => ({
    id: f.id,
    fn: f.fn,
    route: route(f.id, f.common.match, f.common.match_regex),
  }));
}

/**
 * `storage.total_limit_size` when an output sets none: fluent-bit has no limit, so a destination
 * that is down filled the disk; at this size inputs wait (or refuse) until chunks are delivered.
 */
export const DEFAULT_TOTAL_LIMIT = 512 * 1024 * 1024;

/** Each configured output (or its override) behind a runner, with a disk store under `storage.path`. */
export function buildOutputs(
  config: CollectorConfig,
  log: Logger,
  m: CollectorMetrics,
  outputOverride: ((id: string) => OutputInstance) | undefined,
): OutputRoute[] {
  const storagePath = config.service['storage.path'];
  const anyFs = config.inputs.some((i) => i.common['storage.type'] === 'filesystem');
  if (anyFs && !storagePath) {
    throw new CollectorError(
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      "storage.type filesystem needs service 'storage.path'",
      'service.storage.path',
    );
  }
  return config.outputs.map((o) => {
    const discard = (n: number, code: CollectorErrorCode, detail: Record<string, unknown>) => {
      m.dropped.inc({ output: o.id }, n);
      log.error({ output: o.id, code, records: n, ...detail }, 'output refused records for good');
    };
    const instance = outputOverride
      ? outputOverride(o.id)
      : o.plugin.create(o.options, { log, name: o.id, discard });
    const store = storagePath
      ? new ChunkStore(
          join(storagePath, o.id.replace(/[^\w.-]/g, '_')),
          config.service['storage.sync'] === 'full',
        )
      : undefined;
    return {
      route: route(o.id, o.common.match, o.common.match_regex),
      runner: new OutputRunner({
        name: o.id,
        instance,
        log,
        flush: config.service.flush,
        retryLimit: o.common.retry_limit,
        backoffBase: config.service['scheduler.base'],
        backoffCap: config.service['scheduler.cap'],
        ...(store ? { store } : {}),
        totalLimit: o.common['storage.total_limit_size'] ?? DEFAULT_TOTAL_LIMIT,
        dropOldest: o.common['storage.drop_oldest'],
        onBufferBytes: (n) => m.bufferBytes.set({ output: o.id }, n),
        onDelivered: (n) => m.outRecords.inc({ output: o.id }, n),
        onRetry: () => m.retries.inc({ output: o.id }),
        onDropped: (n) => m.dropped.inc({ output: o.id }, n),
      }),
    };
  });
}

/** The code a rejection is logged with, by its counted reason (anything else is undecodable input). */
const REJECTION_CODES: Record<string, CollectorErrorCode> = {
  too_large: 'SPROUT_ERR_COLLECTOR_TOO_LARGE',
  invalid_path: 'SPROUT_ERR_COLLECTOR_BAD_REQUEST',
  internal: 'SPROUT_ERR_COLLECTOR_INTERNAL',
};

/** An input's `dropped`: counted at once, logged when dropping starts and then at most every 10 s. */
function droppedCounter(input: string, m: CollectorMetrics, log: Logger) {
  let unlogged = 0;
  let loggedAt = 0;
  return (messages: number, reason: string) => {
    m.inDropped.inc({ input, reason }, messages);
    unlogged += messages;
    const now = Date.now();
    if (now - loggedAt < 10_000) return;
    log.warn(
      { code: 'SPROUT_ERR_COLLECTOR_BUFFER_FULL', reason, dropped: unlogged },
      'input dropped messages it could not hand over (UDP cannot make a sender wait)',
    );
    unlogged = 0;
    loggedAt = now;
  };
}

export interface BuiltInput {
  cfg: InputConfig;
  instance: InputInstance;
}

/** Each configured input, emitting into `flow` under its own memory limit. */
export function buildInputs(
  config: CollectorConfig,
  flow: RecordFlow,
  log: Logger,
  m: CollectorMetrics,
): BuiltInput[] {
  return config.inputs.map((cfg) => {
    const tagSet = cfg.common.tag !== undefined;
    const state = flow.inputState(
      cfg.id,
      cfg.common.mem_buf_limit,
      cfg.common['storage.type'] === 'filesystem',
      cfg.common.ack,
    );
    const level = cfg.common.log_level;
    const ilog = log.child({ input: cfg.id }, level ? { level: level === 'off' ? 'silent' : level } : {});
    const parser = cfg.parser;
    const { emit } = flow;
    const instance = cfg.plugin.create(cfg.options, {
      tag: cfg.common.tag ?? cfg.id,
      tagSet,
      log: ilog,
      emit: (records, bytes, options) => emit(state, records, bytes, options),
      overLimit: () => state.bytes >= state.limit,
      dropped: droppedCounter(cfg.id, m, ilog),
      reject: (reason, detail) => {
        m.rejected.inc({ input: cfg.id, reason });
        ilog.warn(
          { code: REJECTION_CODES[reason] ?? 'SPROUT_ERR_COLLECTOR_DECODE', reason, ...detail },
          'input rejected a message',
        );
      },
      ...(parser ? { parse: (t: string) => parser.parse(t) } : {}),
    });
    return { cfg, instance };
  });
}
