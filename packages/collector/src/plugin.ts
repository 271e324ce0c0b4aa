import type { Logger } from '@sprout/observe';
import type { z } from 'zod';
import type { CollectorErrorCode } from './errors.js';
import type { CollectorRecord } from './types.js';

/**
 * What `InputContext.emit` returns when the records were taken and the input may read on at once:
 * an input can compare against it and skip waiting a turn (stream inputs then keep reading without
 * pausing the socket).
 */
export const ACCEPTED: Promise<void> = Promise.resolve();

/** What an input gets from the engine. */
export interface InputContext {
  /** The tag configured for this input (or `<plugin>.<index>`). */
  tag: string;
  /** `true` when the user set `tag` (inputs that derive tags from paths or topics use it only then). */
  tagSet: boolean;
  log: Logger;
  /**
   * Hands records to the pipeline. Resolves when they are accepted: buffered (and below the input's
   * memory limit), or delivered by every output when the input runs with `ack: on`. Inputs read the
   * next batch only after this resolves, which is how backpressure reaches the socket; it is
   * {@link ACCEPTED} when they may read on at once.
   * `bytes` is the wire size, used for the memory limit. When an output's filesystem buffer is full
   * (`storage.total_limit_size`) a disk-buffered emit waits for room (stream inputs stop reading
   * meanwhile); with `ifFull: 'refuse'` it rejects at once with SPROUT_ERR_COLLECTOR_BUFFER_FULL
   * (HTTP inputs answer 503, UDP inputs drop and count the datagrams); `ifOverLimit: 'refuse'`
   * rejects the same way while the input is over its `mem_buf_limit` instead of waiting (UDP).
   */
  emit(
    records: CollectorRecord[],
    bytes: number,
    options?: { ifFull?: 'wait' | 'refuse'; ifOverLimit?: 'wait' | 'refuse' },
  ): Promise<void>;
  /** True while this input holds its `mem_buf_limit` in records not yet delivered (UDP inputs drop then). */
  overLimit?(): boolean;
  /** Counts and logs input the decoder rejected (never throws). */
  reject(reason: string, detail?: Record<string, unknown>): void;
  /**
   * Counts messages received but not handed over (`collector_input_dropped_total`: UDP datagrams
   * while a buffer is full, since UDP cannot make a sender wait); logged at most every 10 s.
   */
  dropped(messages: number, reason: string): void;
  /** Parses a raw text field with the named parser (`parser` option), or undefined when none matched. */
  parse?(text: string): { time?: bigint; body: Record<string, unknown> } | undefined;
}

export interface InputInstance {
  start(): Promise<void>;
  close(): Promise<void>;
  /** Where it listens once started (`{ port }` for sockets, a path for unix sockets). */
  address?(): { host?: string; port?: number; path?: string; grpcPort?: number };
}

export interface InputPlugin<S extends z.ZodType = z.ZodType> {
  name: string;
  aliases?: string[];
  /** Plugin keys (lower case, fluent-bit names); the common keys are handled by the engine. */
  schema: S;
  create(options: z.output<S>, ctx: InputContext): InputInstance;
}

interface OutputContext {
  log: Logger;
  name: string;
  /**
   * Counts (`collector_output_dropped_records_total`) and logs records the output refuses for good,
   * never retried (the file output's tags that cannot be a file name). Without it they are logged only.
   */
  discard?(records: number, code: CollectorErrorCode, detail: Record<string, unknown>): void;
}

export interface OutputInstance {
  /** Delivers a batch; throwing (or rejecting) makes the engine retry it with backoff. */
  write(records: CollectorRecord[]): Promise<void>;
  /**
   * The most records one `write` may take when batches are waiting: the engine merges in-memory
   * batches queued behind the one in flight into one write up to this many (one file append for many
   * batches when the output falls behind). Unset: one batch a write.
   */
  maxRecords?: number;
  close?(): Promise<void>;
}

export interface OutputPlugin<S extends z.ZodType = z.ZodType> {
  name: string;
  schema: S;
  create(options: z.output<S>, ctx: OutputContext): OutputInstance;
}

/** A filter returns the record (changed or not), several records, or null to drop it. */
export type FilterFn = (record: CollectorRecord) => CollectorRecord | CollectorRecord[] | null;

interface FilterContext {
  log: Logger;
  /** Named parsers from the config (for the `parser` filter). */
  parsers: ReadonlyMap<string, Parser>;
  /** Folder the config file lives in; relative paths in filter options resolve against it. */
  baseDir: string;
}

export interface FilterPlugin<S extends z.ZodType = z.ZodType> {
  name: string;
  schema: S;
  create(options: z.output<S>, ctx: FilterContext): FilterFn;
}

/** A text parser (json, regex, logfmt, syslog): text in, body and optional time out. */
export interface Parser {
  name: string;
  parse(text: string): { time?: bigint; body: Record<string, unknown> } | undefined;
}
