import type { Logger } from '@sprout/observe';
import { CollectorError } from '../errors.js';
import { ACCEPTED, type FilterFn } from '../plugin.js';
import { nowNs, type CollectorRecord } from '../types.js';
import type { CollectorMetrics } from './metrics.js';
import type { OutputRunner } from './output-runner.js';
import { matches, type Route } from './route.js';
import { SpaceGate } from './space-gate.js';
import { encodeChunkLines } from './storage.js';
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
  /** Records emitted and not yet delivered (or, disk-buffered, written to the chunk). */
  records: number;
  limit: number;
  fs: boolean;
  ack: boolean;
  waiters: Array<() => void>;
  paused: boolean;
  /** An emit of this input waits for room in a full filesystem buffer. */
  blocked: boolean;
}

/**
 * How an emit meets a full filesystem buffer (`ifFull`) or an input over its `mem_buf_limit`
 * (`ifOverLimit`): `wait` (default) until there is room, or `refuse` it at once (UDP, which cannot
 * make a sender wait).
 */
interface EmitOptions {
  ifFull?: 'wait' | 'refuse';
  ifOverLimit?: 'wait' | 'refuse';
}

/**
 * What one record costs in memory beyond its wire bytes, as `mem_buf_limit` counts it: the record,
 * its body object and their strings take about this much heap for a short log line (measured:
 * ~600 bytes for an RFC 5424 message of 106). Counting wire bytes alone let 64M of short messages
 * hold over 500 MB of heap.
 */
const RECORD_MEMORY = 512;

/**
 * An input that waits (TCP, HTTP, MQTT, push) also waits while it has this many records in flight,
 * whatever their bytes: enough for an output to write one merged batch while the next fills, few
 * enough that records are written before the young generation's collector has to copy them (a
 * backlog held up to mem_buf_limit made a third of the CPU time garbage collection). UDP inputs,
 * which drop rather than wait, are held to mem_buf_limit only.
 */
const RECORDS_IN_FLIGHT = 32_768;

const over = (s: InputState) => s.bytes >= s.limit || s.records >= RECORDS_IN_FLIGHT;

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
   * accepted (below the input's memory limit, or delivered everywhere with `ack: on`). A
   * disk-buffered emit an output's full `storage.total_limit_size` cannot take waits for room, or
   * with `ifFull: 'refuse'` rejects with SPROUT_ERR_COLLECTOR_BUFFER_FULL (status 503), not counted.
   */
  emit(state: InputState, records: CollectorRecord[], bytes: number, options?: EmitOptions): Promise<void>;
  /** Records fed in-process, as the `push` input. */
  push(input: PushRecord | PushRecord[]): Promise<void>;
  /** Refuses every later emit with SPROUT_ERR_COLLECTOR_CLOSED; emits waiting for room are written. */
  stop(): void;
  /** Lets every input waiting on its memory limit go (at close). */
  wakeAll(): void;
}

/**
 * The record path: push → filters (by tag) → one add per output batch, with the input's memory
 * limit and acknowledgements followed through a Tracker, and disk-buffered emits held at the
 * SpaceGate while an output's buffer is full.
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
      records: 0,
      limit: limit ?? 64 * 1024 * 1024,
      fs,
      ack,
      waiters: [],
      paused: false,
      blocked: false,
    };
    states.set(id, s);
    return s;
  };
  const pushState = stateFor('push', undefined, false, false);
  const gate = new SpaceGate(runners);
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

  /**
   * Each output's share of an emit. Common case (no filters, one tag for the whole emit, as inputs
   * produce): route once and pass the list through.
   */
  const route = (records: CollectorRecord[]): CollectorRecord[][] => {
    const tag = records[0]?.tag;
    if (!filters.length && records.every((r) => r.tag === tag))
      return runners.map((x) => (tag !== undefined && matches(x.route, tag) ? records : []));
    const perOutput = runners.map(() => [] as CollectorRecord[]);
    for (const rec of records) {
      for (const r of filters.length ? applyFilters(rec) : [rec]) {
        for (let i = 0; i < runners.length; i++) if (matches(runners[i]!.route, r.tag)) perOutput[i]!.push(r);
      }
    }
    return perOutput;
  };

  /** The chunk lines a disk-buffered emit adds to each output it goes to (encoded once per list). */
  const chunkLines = (perOutput: CollectorRecord[][]): Map<number, Buffer> => {
    const lines = new Map<number, Buffer>();
    let last: CollectorRecord[] | undefined;
    let lastLines: Buffer | undefined;
    for (let i = 0; i < perOutput.length; i++) {
      const list = perOutput[i]!;
      if (!list.length) continue;
      if (list !== last) [last, lastLines] = [list, encodeChunkLines(list)];
      lines.set(i, lastLines!);
    }
    return lines;
  };

  // write and settled are made once, not per emit: under tsx (keepNames) every named closure made
  // per call costs a defineProperty call.
  /** Adds an emit's share to each output's batch (disk-buffered: to its chunk, now). */
  const write = (
    state: InputState,
    perOutput: CollectorRecord[][],
    lines: Map<number, Buffer> | undefined,
    tracker: Tracker,
  ): void => {
    try {
      // Disk-buffered records without ack are accepted once written: nothing to follow.
      const follow = state.fs && !state.ack ? undefined : tracker;
      for (let i = 0; i < runners.length; i++)
        runners[i]!.runner.add(perOutput[i]!, follow, state.fs, lines?.get(i));
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
  };

  /** Accepted: with ack once delivered, otherwise once the input is back under its memory limit. */
  const settled = (state: InputState, acked: Promise<void> | undefined): Promise<void> => {
    if (acked) return acked;
    if (over(state)) {
      if (!state.paused) {
        state.paused = true;
        m.paused.set({ input: state.id }, 1);
        log.debug(
          { input: state.id, bytes: state.bytes, limit: state.limit, records: state.records },
          'input paused by mem_buf_limit',
        );
      }
      return new Promise<void>((r) => state.waiters.push(r));
    }
    return ACCEPTED;
  };

  const emit = (
    state: InputState,
    records: CollectorRecord[],
    bytes: number,
    options?: EmitOptions,
  ): Promise<void> => {
    if (closed)
      return Promise.reject(new CollectorError('SPROUT_ERR_COLLECTOR_CLOSED', 'the collector is closed'));
    if (options?.ifOverLimit === 'refuse' && state.bytes >= state.limit)
      return Promise.reject(
        new CollectorError(
          'SPROUT_ERR_COLLECTOR_BUFFER_FULL',
          'the input holds its mem_buf_limit in records not yet delivered; retry later',
          'mem_buf_limit',
          { status: 503 },
        ),
      );
    const wireBytes = bytes;
    bytes += records.length * RECORD_MEMORY;
    const perOutput = route(records);
    const lines = state.fs ? chunkLines(perOutput) : undefined;
    const full = lines !== undefined && !gate.open(lines);
    if (full && options?.ifFull === 'refuse')
      return Promise.reject(
        new CollectorError(
          'SPROUT_ERR_COLLECTOR_BUFFER_FULL',
          'the filesystem buffer of an output is full (storage.total_limit_size); retry later',
          undefined,
          { status: 503 },
        ),
      );
    m.inRecords.inc({ input: state.id }, records.length);
    m.inBytes.inc({ input: state.id }, wireBytes);
    let resolveAck!: () => void;
    let rejectAck!: (e: Error) => void;
    const acked = state.ack
      ? new Promise<void>((res, rej) => {
          resolveAck = res;
          rejectAck = rej;
        })
      : undefined;
    state.bytes += bytes;
    state.records += records.length;
    const tracker = new Tracker((ok) => {
      state.bytes -= bytes;
      state.records -= records.length;
      if (!over(state) && state.waiters.length) {
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
    if (!full) {
      write(state, perOutput, lines, tracker);
      return settled(state, acked);
    }
    // The buffer is full: this emit (and the input behind it, which waits for it) goes on once
    // delivered chunks leave the disk.
    if (!state.blocked) {
      state.blocked = true;
      log.warn(
        { input: state.id, code: 'SPROUT_ERR_COLLECTOR_BUFFER_FULL' },
        'filesystem buffer full (storage.total_limit_size): the input waits until chunks are delivered',
      );
    }
    return new Promise<void>((resolve, reject) =>
      gate.wait(lines, () => {
        if (state.blocked) log.info({ input: state.id }, 'filesystem buffer has room again: input resumes');
        state.blocked = false;
        try {
          write(state, perOutput, lines, tracker);
        } catch (err) {
          return reject(err as Error);
        }
        settled(state, acked).then(resolve, reject);
      }),
    );
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
      gate.flush();
    },
    wakeAll() {
      for (const s of states.values()) for (const w of s.waiters.splice(0)) w();
    },
  };
}
