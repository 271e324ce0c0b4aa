import { gunzipSync } from 'node:zlib';
import { decode, decodeMulti, encode } from '@msgpack/msgpack';
import { decodeOpts, forwardCodec, ForwardError, isMap, utf8 } from './codec.js';

/**
 * The forward protocol's event messages: decoding of the four modes (Message, Forward,
 * PackedForward, CompressedPackedForward), the ack a `chunk` asks for, and encoding for the output.
 */

/** One decoded forward message: its tag, events and the options that ask for an ack. */
export interface ForwardMessage {
  mode: 'Message' | 'Forward' | 'PackedForward' | 'CompressedPackedForward';
  tag: string;
  events: Array<{ time: bigint; record: Record<string, unknown> }>;
  /** `chunk` option: the sender waits for `{ack: chunk}`. */
  chunk?: string;
}

/** Raw strings (decoded as bytes so packed event streams survive) become UTF-8 text, recursively. */
function text(v: unknown): unknown {
  if (v instanceof Uint8Array) return utf8.decode(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = text(v[i]);
    return v;
  }
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    const o = v as Record<string, unknown>;
    for (const k in o) o[k] = text(o[k]);
  }
  return v;
}

/** Event time: EventTime (bigint ns), integer or fractional seconds; fluent-bit's `[time, metadata]` too. */
function eventTime(v: unknown): bigint {
  if (Array.isArray(v) && v.length === 2 && isMap(v[1])) v = v[0];
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) {
    return Number.isInteger(v) ? BigInt(v) * 1_000_000_000n : BigInt(Math.round(v * 1e6)) * 1000n;
  }
  throw new ForwardError('decode', `event time must be an integer, a float or an EventTime, got ${typeof v}`);
}

function event(v: unknown): { time: bigint; record: Record<string, unknown> } {
  if (!Array.isArray(v) || v.length < 2) throw new ForwardError('decode', 'an event must be [time, record]');
  const record = text(v[1]);
  if (!isMap(record)) throw new ForwardError('decode', 'an event record must be a map');
  return { time: eventTime(v[0]), record };
}

/**
 * Decodes one whole msgpack object (from `MsgpackFramer`) as a forward message. `maxInflated`
 * bounds the size of a gzip-compressed event stream once inflated. Throws ForwardError.
 */
export function decodeForward(frame: Uint8Array, maxInflated: number): ForwardMessage {
  let m: unknown;
  try {
    m = decode(frame, decodeOpts);
  } catch (err) {
    if (err instanceof ForwardError) throw err;
    throw new ForwardError('decode', `invalid msgpack: ${(err as Error).message}`);
  }
  if (!Array.isArray(m) || m.length < 2) {
    throw new ForwardError('decode', 'a forward message must be an array [tag, time|entries, ...]');
  }
  if (!(m[0] instanceof Uint8Array)) throw new ForwardError('decode', 'the tag must be a string');
  const tag = utf8.decode(m[0]);
  if (tag === 'PING' || tag === 'HELO' || tag === 'PONG') {
    throw new ForwardError('protocol', `${tag}: shared-key handshake is not enabled on this input`);
  }
  if (m.length > 4) throw new ForwardError('decode', 'a forward message has at most 4 elements');
  const second = m[1];
  let mode: ForwardMessage['mode'] | undefined;
  let events: ForwardMessage['events'] = [];
  let rawOptions: unknown;
  if (typeof second === 'number' || typeof second === 'bigint') {
    mode = 'Message';
    if (m.length < 3) throw new ForwardError('decode', 'Message mode needs [tag, time, record]');
    events = [event([second, m[2]])];
    rawOptions = m[3];
  } else {
    if (m.length > 3) throw new ForwardError('decode', 'Forward modes take [tag, entries, option]');
    rawOptions = m[2];
  }
  const options = text(rawOptions ?? {});
  if (!isMap(options)) throw new ForwardError('decode', 'option must be a map');
  const compressed = options.compressed;
  if (compressed !== undefined && compressed !== 'gzip' && compressed !== 'text') {
    throw new ForwardError('decode', `unknown compressed option '${String(compressed)}' (gzip or text)`);
  }
  if (Array.isArray(second)) {
    mode = 'Forward';
    events = second.map(event);
  } else if (second instanceof Uint8Array) {
    mode = compressed === 'gzip' ? 'CompressedPackedForward' : 'PackedForward';
    let stream = second;
    if (compressed === 'gzip') {
      try {
        stream = gunzipSync(second, { maxOutputLength: maxInflated });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'ERR_BUFFER_TOO_LARGE') {
          throw new ForwardError('too_large', `inflated event stream exceeds ${maxInflated} bytes`);
        }
        throw new ForwardError('decode', `gzip: ${e.message}`);
      }
    }
    events = [];
    try {
      for (const e of decodeMulti(stream, decodeOpts)) events.push(event(e));
    } catch (err) {
      if (err instanceof ForwardError) throw err;
      throw new ForwardError('decode', `invalid packed event stream: ${(err as Error).message}`);
    }
  } else if (mode !== 'Message') {
    throw new ForwardError(
      'decode',
      'the second element must be a time, an array of entries or a binary stream',
    );
  }
  const chunk = options.chunk;
  if (chunk !== undefined && typeof chunk !== 'string')
    throw new ForwardError('decode', 'chunk must be a string');
  return { mode: mode ?? 'Message', tag, events, ...(chunk !== undefined ? { chunk } : {}) };
}

/** The server's answer to a message carrying `chunk`. */
export function encodeAck(chunk: string): Uint8Array {
  return encode({ ack: chunk });
}

/** Encodes with EventTime support and 64-bit integers for bigint values. */
export function encodeForward(value: unknown): Uint8Array {
  return encode(value, { extensionCodec: forwardCodec, useBigInt64: true, ignoreUndefined: true });
}
