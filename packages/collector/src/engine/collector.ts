import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { createLogger, type Logger } from '@sprout/observe';
import { Counter, Gauge, createMetrics, METRICS_CONTENT_TYPE, type Registry } from '@sprout/observe/metrics';
import type { CollectorConfig, InputConfig } from '../config/load.js';
import { CollectorError } from '../errors.js';
import { builtinParsers } from '../parsers/text.js';
import type { InputInstance, OutputInstance, Parser } from '../plugin.js';
import { nowNs, type CollectorRecord } from '../types.js';
import { tagMatcher } from './match.js';
import { OutputRunner } from './output-runner.js';
import { ChunkStore } from './storage.js';
import { Tracker } from './tracker.js';

export interface CollectorOptions {
  logger?: Logger;
  /** Metrics registry to register on; a fresh one by default. */
  metrics?: Registry;
  /** Replaces each output's instance (config tests capture records this way). */
  outputOverride?: (id: string) => OutputInstance;
  /** Skip the configured inputs (only `push` feeds the pipeline). */
  withoutInputs?: boolean;
}

/** A record handed to `push`: time defaults to now. */
export interface PushRecord {
  tag: string;
  body: Record<string, unknown>;
  time?: bigint;
  kind?: CollectorRecord['kind'];
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

interface InputState {
  id: string;
  bytes: number;
  limit: number;
  fs: boolean;
  ack: boolean;
  waiters: Array<() => void>;
  paused: boolean;
}

interface Route {
  id: string;
  match: (tag: string) => boolean;
  cache: Map<string, boolean>;
}

/**
 * Builds a collector from a validated config.
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
  const m = {
    inRecords: new Counter({
      name: 'collector_input_records_total',
      help: 'Records accepted by an input',
      labelNames: ['input'],
      registers: [registry],
    }),
    inBytes: new Counter({
      name: 'collector_input_bytes_total',
      help: 'Bytes accepted by an input',
      labelNames: ['input'],
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'collector_input_rejected_total',
      help: 'Messages an input rejected (undecodable, too large)',
      labelNames: ['input', 'reason'],
      registers: [registry],
    }),
    paused: new Gauge({
      name: 'collector_input_paused',
      help: '1 while an input is paused by its memory limit',
      labelNames: ['input'],
      registers: [registry],
    }),
    outRecords: new Counter({
      name: 'collector_output_records_total',
      help: 'Records delivered by an output',
      labelNames: ['output'],
      registers: [registry],
    }),
    retries: new Counter({
      name: 'collector_output_retries_total',
      help: 'Batch retries',
      labelNames: ['output'],
      registers: [registry],
    }),
    dropped: new Counter({
      name: 'collector_output_dropped_records_total',
      help: 'Records given up on after the retry limit',
      labelNames: ['output'],
      registers: [registry],
    }),
    filterErrors: new Counter({
      name: 'collector_filter_errors_total',
      help: 'Filter calls that threw (record kept unchanged)',
      labelNames: ['filter'],
      registers: [registry],
    }),
  };

  const parsers = new Map<string, Parser>(builtinParsers());
  for (const p of config.parsers) parsers.set(p.name, p);

  const filters = config.filters.map((f) => ({
    id: f.id,
    fn: f.fn,
    route: route(f.id, f.common.match, f.common.match_regex),
  }));

  const storagePath = config.service['storage.path'];
  const anyFs = config.inputs.some((i) => i.common['storage.type'] === 'filesystem');
  if (anyFs && !storagePath) {
    throw new CollectorError(
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      "storage.type filesystem needs service 'storage.path'",
      'service.storage.path',
    );
  }
  const runners = config.outputs.map((o) => {
    const instance = options.outputOverride
      ? options.outputOverride(o.id)
      : o.plugin.create(o.options, { log, name: o.id });
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
        ...(o.common['storage.total_limit_size'] !== undefined
          ? { totalLimit: o.common['storage.total_limit_size'] }
          : {}),
        onDelivered: (n) => m.outRecords.inc({ output: o.id }, n),
        onRetry: () => m.retries.inc({ output: o.id }),
        onDropped: (n) => m.dropped.inc({ output: o.id }, n),
      }),
    };
  });

  const states = new Map<string, InputState>();
  const stateFor = (id: string, limit: number | undefined, fs: boolean, ack: boolean): InputState => {
    const s: InputState = {
      id,
      bytes: 0,
      limit: limit ?? 64 * 1024 * 1024,
      fs,
      ack,
      waiters: [],
      paused: false,
    };
    states.set(id, s);
    return s;
  };
  const pushState = stateFor('push', undefined, false, false);
  let closed = false;

  const applyFilters = (rec: CollectorRecord): CollectorRecord[] => {
    let list = [rec];
    for (const f of filters) {
      const next: CollectorRecord[] = [];
      for (const r of list) {
        if (!matches(f.route, r.tag)) {
          next.push(r);
          continue;
        }
        try {
          const out = f.fn(r);
          if (out === null) continue;
          if (Array.isArray(out)) next.push(...out);
          else next.push(out);
        } catch (err) {
          m.filterErrors.inc({ filter: f.id });
          log.warn({ filter: f.id, err: (err as Error).message }, 'filter threw; record passed on unchanged');
          next.push(r);
        }
      }
      list = next;
    }
    return list;
  };

  const emit = (state: InputState, records: CollectorRecord[], bytes: number): Promise<void> => {
    if (closed)
      return Promise.reject(new CollectorError('SPROUT_ERR_COLLECTOR_CLOSED', 'the collector is closed'));
    m.inRecords.inc({ input: state.id }, records.length);
    m.inBytes.inc({ input: state.id }, bytes);
    let resolveAck!: () => void;
    let rejectAck!: (e: Error) => void;
    const acked = state.ack
      ? new Promise<void>((res, rej) => {
          resolveAck = res;
          rejectAck = rej;
        })
      : undefined;
    state.bytes += bytes;
    const tracker = new Tracker((ok) => {
      state.bytes -= bytes;
      if (state.bytes < state.limit && state.waiters.length) {
        if (state.paused) m.paused.set({ input: state.id }, 0);
        state.paused = false;
        for (const w of state.waiters.splice(0)) w();
      }
      if (acked) {
        if (ok) resolveAck();
        else
          rejectAck(
            new CollectorError('SPROUT_ERR_COLLECTOR_OUTPUT_FAILED', 'an output gave up on these records'),
          );
      }
    });
    // Group by output so each output gets one add per emit. Common case (no filters, one tag for
    // the whole emit, as inputs produce): route once and pass the list through.
    const tag = records[0]?.tag;
    let perOutput: CollectorRecord[][];
    if (!filters.length && records.every((r) => r.tag === tag)) {
      perOutput = runners.map((x) => (tag !== undefined && matches(x.route, tag) ? records : []));
    } else {
      perOutput = runners.map(() => [] as CollectorRecord[]);
      for (const rec of records) {
        for (const r of filters.length ? applyFilters(rec) : [rec]) {
          for (let i = 0; i < runners.length; i++)
            if (matches(runners[i]!.route, r.tag)) perOutput[i]!.push(r);
        }
      }
    }
    try {
      // Disk-buffered records without ack are accepted once written: nothing to follow.
      const follow = state.fs && !state.ack ? undefined : tracker;
      for (let i = 0; i < runners.length; i++) runners[i]!.runner.add(perOutput[i]!, follow, state.fs);
    } catch (err) {
      throw new CollectorError(
        'SPROUT_ERR_COLLECTOR_BUFFER',
        `cannot write the filesystem buffer: ${(err as Error).message}`,
        undefined,
        { cause: err },
      );
    } finally {
      tracker.seal();
    }
    if (acked) return acked;
    if (state.bytes >= state.limit) {
      if (!state.paused) {
        state.paused = true;
        m.paused.set({ input: state.id }, 1);
        log.debug(
          { input: state.id, bytes: state.bytes, limit: state.limit },
          'input paused by mem_buf_limit',
        );
      }
      return new Promise<void>((r) => state.waiters.push(r));
    }
    return Promise.resolve();
  };

  const instances: Array<{ cfg: InputConfig; instance: InputInstance }> = [];
  if (!options.withoutInputs) {
    for (const cfg of config.inputs) {
      const tagSet = cfg.common.tag !== undefined;
      const state = stateFor(
        cfg.id,
        cfg.common.mem_buf_limit,
        cfg.common['storage.type'] === 'filesystem',
        cfg.common.ack,
      );
      const ilog = log.child({ input: cfg.id });
      const parser = cfg.parser;
      const instance = cfg.plugin.create(cfg.options, {
        tag: cfg.common.tag ?? cfg.id,
        tagSet,
        log: ilog,
        emit: (records, bytes) => emit(state, records, bytes),
        reject: (reason, detail) => {
          m.rejected.inc({ input: cfg.id, reason });
          ilog.warn(
            {
              code: reason === 'too_large' ? 'SPROUT_ERR_COLLECTOR_TOO_LARGE' : 'SPROUT_ERR_COLLECTOR_DECODE',
              reason,
              ...detail,
            },
            'input rejected a message',
          );
        },
        ...(parser ? { parse: (t: string) => parser.parse(t) } : {}),
      });
      instances.push({ cfg, instance });
    }
  }

  let monitor: Server | undefined;
  const collector: Collector = {
    metrics: registry,
    async start() {
      const started: InputInstance[] = [];
      try {
        for (const { instance } of instances) {
          await instance.start();
          started.push(instance);
        }
        if (config.service.http_server)
          monitor = await startMonitor(config.service.http_listen, config.service.http_port, registry);
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
      const graceMs = config.service.grace * 1000;
      const drained = await Promise.all(runners.map((r) => r.runner.drain(graceMs)));
      if (drained.some((d) => !d))
        log.warn(
          { graceSeconds: config.service.grace },
          'grace period over with batches undelivered (disk chunks stay for the next run)',
        );
      await Promise.allSettled(runners.map((r) => r.runner.close()));
      for (const s of states.values()) for (const w of s.waiters.splice(0)) w();
      if (monitor) await new Promise((r) => monitor!.close(r));
    },
    push(input) {
      const list = Array.isArray(input) ? input : [input];
      const now = nowNs();
      const records = list.map((p): CollectorRecord => ({
        time: p.time ?? now,
        tag: p.tag,
        body: p.body,
        ...(p.kind ? { kind: p.kind } : {}),
      }));
      return emit(
        pushState,
        records,
        records.reduce((n, r) => n + JSON.stringify(r.body).length, 0),
      );
    },
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
  return collector;
}

function route(id: string, match: string | undefined, matchRegex: string | undefined): Route {
  return { id, match: tagMatcher(match, matchRegex), cache: new Map() };
}

function matches(r: Route, tag: string): boolean {
  let v = r.cache.get(tag);
  if (v === undefined) {
    v = r.match(tag);
    if (r.cache.size > 10_000) r.cache.clear();
    r.cache.set(tag, v);
  }
  return v;
}

/** fluent-bit's monitoring server: `/api/v1/metrics/prometheus` (also `/metrics`) and `/api/v1/health`. */
async function startMonitor(host: string, port: number, registry: Registry): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics' || req.url === '/api/v1/metrics/prometheus') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text),
        () => res.writeHead(500).end(),
      );
    } else if (req.url === '/api/v1/health') res.writeHead(200).end('ok\n');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new CollectorError('SPROUT_ERR_COLLECTOR_LISTEN', err.message, 'service.http_port')),
    );
    server.listen(port, host, resolve);
  });
  return server;
}
