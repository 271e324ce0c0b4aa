import type { Logger } from '@sprout/observe';
import type { OutputInstance } from '../plugin.js';
import type { CollectorRecord } from '../types.js';
import { encodeChunkLines, type ChunkStore, type OpenChunk } from './storage.js';
import type { Tracker } from './tracker.js';

export interface RunnerOptions {
  name: string;
  instance: OutputInstance;
  log: Logger;
  /** Seconds between flushes of the open batch. */
  flush: number;
  /** Retries after the first attempt; `Infinity` for no limit. */
  retryLimit: number;
  /** Backoff: base and cap in seconds (fluent-bit's scheduler.base / scheduler.cap). */
  backoffBase: number;
  backoffCap: number;
  store?: ChunkStore;
  /** `storage.total_limit_size`: the most bytes of disk chunks this output holds. */
  totalLimit: number;
  /**
   * `storage.drop_oldest` (Sprout's; fluent-bit always does this): over the limit the oldest queued
   * chunk is dropped. Off: the limit is never passed; inputs wait (or refuse) until chunks are delivered.
   */
  dropOldest: boolean;
  /** The store's size changed (the `collector_output_buffer_bytes` gauge). */
  onBufferBytes?(bytes: number): void;
  onDelivered(n: number): void;
  onRetry(): void;
  onDropped(n: number): void;
}

interface Batch {
  records: CollectorRecord[] | null;
  count: number;
  trackers: Set<Tracker>;
  chunk?: OpenChunk | { path: string };
}

/** Records in a batch before it is sealed: small enough that records die young (a scavenge copies
 * whatever is still held), large enough to amortise an output's request. */
const MAX_BATCH = 512;

/**
 * Runs one output: collects routed records into batches, flushes them in order, retries a failed
 * batch with exponential backoff and jitter up to the retry limit. Filesystem batches keep their
 * records only on disk once sealed and are deleted after delivery.
 */
export class OutputRunner {
  private queue: Batch[] = [];
  private memOpen: Batch | null = null;
  private fsOpen: Batch | null = null;
  private timer: NodeJS.Timeout | null = null;
  private draining = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly o: RunnerOptions) {
    // Chunks a crashed or stopped run left behind go first.
    for (const path of o.store?.pending() ?? []) {
      this.queue.push({ records: null, count: -1, trackers: new Set(), chunk: { path } });
    }
    if (this.queue.length) {
      o.log.info({ output: o.name, chunks: this.queue.length }, 'resuming buffered chunks');
      this.kick();
    }
  }

  /** Called (in a microtask) when delivered chunks left the disk: the record flow lets waiting emits in. */
  onSpace: () => void = () => undefined;

  /**
   * True when `bytes` more fit under `storage.total_limit_size` (always with `storage.drop_oldest`, and
   * into an empty store, so one write larger than the whole limit is not refused for ever).
   */
  fits(bytes: number): boolean {
    const store = this.o.store;
    if (!store || this.o.dropOldest) return true;
    const used = store.totalBytes();
    return used === 0 || used + bytes <= this.o.totalLimit;
  }

  /**
   * Adds records from one emit; `fs` batches go to disk before this returns (`lines` is their
   * `encodeChunkLines`, when the caller already encoded them to check the limit).
   */
  add(records: CollectorRecord[], tracker: Tracker | undefined, fs: boolean, lines?: Buffer): void {
    if (records.length === 0) return;
    let b = fs ? this.fsOpen : this.memOpen;
    if (!b) {
      b = { records: [], count: 0, trackers: new Set() };
      if (fs && this.o.store) b.chunk = this.o.store.create();
      if (fs) this.fsOpen = b;
      else this.memOpen = b;
    }
    if (fs && this.o.store && b.chunk && 'fd' in b.chunk) {
      this.o.store.append(b.chunk, lines ?? encodeChunkLines(records));
      if (this.o.dropOldest) this.enforceLimit();
      this.o.onBufferBytes?.(this.o.store.totalBytes());
    }
    // Untracked disk records are safe in the chunk file; memory keeps only tracked ones.
    if (!fs || tracker) {
      // A new batch takes a copy of the list at once (an emit is often a batch by itself).
      const held = b.records!;
      if (held.length === 0) b.records = records.slice();
      else for (const r of records) held.push(r);
    }
    b.count += records.length;
    if (tracker && !b.trackers.has(tracker)) {
      b.trackers.add(tracker);
      tracker.hold();
    }
    if (b.count >= MAX_BATCH) this.seal();
    else if (!this.timer)
      this.timer = setTimeout(() => {
        this.timer = null;
        this.seal();
      }, this.o.flush * 1000);
  }

  /** Moves the open batches to the delivery queue. */
  seal(): void {
    // The flush timer stays armed: batches sealed by size come faster than a timer can be set and
    // cleared for each (3% of a tcp input at saturation); at worst it seals a young batch.
    for (const b of [this.memOpen, this.fsOpen]) {
      if (!b) continue;
      if (b.chunk && 'fd' in b.chunk) {
        this.o.store!.seal(b.chunk);
        b.chunk = { path: b.chunk.path };
        // Read back from disk at delivery unless every record is in memory (all tracked).
        if (b.records!.length !== b.count) b.records = null;
      }
      this.queue.push(b);
    }
    this.memOpen = this.fsOpen = null;
    this.kick();
  }

  /**
   * With `storage.drop_oldest`: drops the oldest sealed disk chunks (never the one being delivered)
   * while the store is over `storage.total_limit_size`, as fluent-bit does; logged and counted.
   */
  private enforceLimit(): void {
    const store = this.o.store!;
    const first = this.draining ? 1 : 0;
    while (store.totalBytes() > this.o.totalLimit!) {
      const i = this.queue.findIndex((b, n) => n >= first && b.chunk && !('fd' in b.chunk));
      if (i < 0) return;
      const [b] = this.queue.splice(i, 1);
      const count = b!.count >= 0 ? b!.count : store.read(b!.chunk!.path).records.length;
      this.o.log.error(
        {
          output: this.o.name,
          code: 'SPROUT_ERR_COLLECTOR_BUFFER',
          records: count,
          limit: this.o.totalLimit,
        },
        'storage.total_limit_size reached: dropped the oldest buffered chunk',
      );
      this.o.onDropped(count);
      this.finish(b!, false);
    }
  }

  pendingBatches(): number {
    return this.queue.length + (this.memOpen ? 1 : 0) + (this.fsOpen ? 1 : 0);
  }

  /** Seals and waits until the queue is empty or `timeoutMs` passed; returns true when empty. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.seal();
    if (this.queue.length === 0 && !this.draining) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      new Promise<boolean>((r) => this.idleWaiters.push(() => r(true))),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return done;
  }

  /** Stops retrying; undelivered disk chunks stay for the next run. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const b of [this.memOpen, this.fsOpen]) if (b?.chunk && 'fd' in b.chunk) this.o.store!.seal(b.chunk);
    await this.o.instance.close?.();
  }

  private kick(): void {
    if (this.draining || this.retryTimer || this.closed) return;
    this.draining = true;
    void this.run();
  }

  private async run(): Promise<void> {
    while (this.queue.length && !this.closed) {
      const b = this.queue[0]!;
      this.merge(b);
      let attempt = 0;
      for (;;) {
        const ok = await this.attempt(b);
        if (ok || this.closed) break;
        if (attempt >= this.o.retryLimit) {
          this.o.log.error(
            {
              output: this.o.name,
              code: 'SPROUT_ERR_COLLECTOR_OUTPUT_FAILED',
              records: b.count,
              attempts: attempt + 1,
            },
            'output gave up on a batch after its retry limit',
          );
          this.o.onDropped(Math.max(b.count, 0));
          this.finish(b, false);
          break;
        }
        attempt++;
        this.o.onRetry();
        const wait = backoff(attempt, this.o.backoffBase, this.o.backoffCap);
        await new Promise<void>((r) => (this.retryTimer = setTimeout(r, wait)));
        this.retryTimer = null;
      }
      if (this.closed) break;
      this.queue.shift();
    }
    this.draining = false;
    if (this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * Folds the in-memory batches queued right behind `b` into it, up to the output's `maxRecords`
   * (they went out one write each otherwise): an output that fell behind catches up in large writes.
   */
  private merge(b: Batch): void {
    const max = this.o.instance.maxRecords;
    if (!max || b.chunk || !b.records) return;
    while (this.queue.length > 1) {
      const next = this.queue[1]!;
      if (next.chunk || !next.records || b.count + next.count > max) return;
      for (const r of next.records) b.records.push(r);
      b.count += next.count;
      for (const t of next.trackers) {
        if (b.trackers.has(t))
          t.release(true); // held once per batch: drop the second hold
        else b.trackers.add(t);
      }
      this.queue.splice(1, 1);
    }
  }

  private async attempt(b: Batch): Promise<boolean> {
    let records = b.records;
    if (!records && b.chunk) {
      const read = this.o.store!.read(b.chunk.path);
      if (read.torn)
        this.o.log.warn(
          { output: this.o.name, chunk: b.chunk.path, torn: read.torn },
          'skipped torn lines in a chunk',
        );
      records = read.records;
      b.count = records.length;
    }
    try {
      if (records && records.length) await this.o.instance.write(records);
      this.o.onDelivered(records?.length ?? 0);
      this.finish(b, true);
      return true;
    } catch (err) {
      const e = err as Error;
      this.o.log.warn(
        { output: this.o.name, err: e.message, records: records?.length },
        'output failed, will retry',
      );
      return false;
    }
  }

  private finish(b: Batch, ok: boolean): void {
    if (b.chunk) {
      this.o.store!.remove(b.chunk.path);
      this.o.onBufferBytes?.(this.o.store!.totalBytes());
      queueMicrotask(this.onSpace);
    }
    b.records = null;
    for (const t of b.trackers) t.release(ok);
    b.trackers.clear();
  }
}

/** Exponential backoff with full jitter, in milliseconds. */
function backoff(attempt: number, base: number, cap: number): number {
  const ceiling = Math.min(cap, base * 2 ** attempt) * 1000;
  return Math.max(1, Math.floor(ceiling / 2 + (Math.random() * ceiling) / 2));
}
