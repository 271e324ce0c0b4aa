import type { Logger } from '@sprout/observe';
import { CollectorError } from '../errors.js';
import type { FilterFn } from '../plugin.js';
import { nowNs, type CollectorRecord } from '../types.js';
import type { CollectorMetrics } from './metrics.js';
import type { OutputRunner } from './output-runner.js';
import { matches, type Route } from './route.js';
import { Tracker } from './tracker.js';

/** A record handed to `push`: time defaults to now. */
export interface PushRecord {
  tag: string;
  body: Record<string, unknown>;
  time?: bigint;
  kind?: CollectorRecord['kind'];
}

/** One input's share of the pipeline: bytes in flight against its `mem_buf_limit`, and who waits. */
interface InputState {
  id: string;
  bytes: number;
  limit: number;
  fs: boolean;
  ack: boolean;
  waiters: Array<() => void>;
  paused: boolean;
}

/** A configured filter and the tags it applies to. */
export interface FilterStep {
  id: string;
  fn: FilterFn;
  route: Route;
}

/** A configured output and the tags it takes. */
export interface OutputRoute {
  route: Route;
  runner: OutputRunner;
}

export interface RecordFlow {
  /** Registers an input; `limit` is its `mem_buf_limit` (64M when unset). */
  inputState(id: string, limit: number | undefined, fs: boolean, ack: boolean): InputState;
  /**
   * Routes an input's records through the filters into the output batches. Resolves when they are
   * accepted (below the input's memory limit, or delivered everywhere with `ack: on`).
   */
  emit(state: InputState, records: CollectorRecord[], bytes: number): Promise<void>;
  /** Records fed in-process, as the `push` input. */
  push(input: PushRecord | PushRecord[]): Promise<void>;
  /** Refuses every later emit with SPROUT_ERR_COLLECTOR_CLOSED. */
  stop(): void;
  /** Lets every input waiting on its memory limit go (at close). */
  wakeAll(): void;
}

/**
 * The record path: push → filters (by tag) → one add per output batch, with the input's memory
 * limit and acknowledgements followed through a Tracker.
 */
export function createRecordFlow(
  filters: FilterStep[],
  runners: OutputRoute[],
  m: CollectorMetrics,
  log: Logger,
): RecordFlow {
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

  return {
    inputState: stateFor,
    emit,
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
    stop() {
      closed = true;
    },
    wakeAll() {
      for (const s of states.values()) for (const w of s.waiters.splice(0)) w();
    },
  };
}
