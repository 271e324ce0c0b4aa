import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { decode, decodeMulti, encode, ExtensionCodec } from '@msgpack/msgpack';

/**
 * Fluentd Forward Protocol v1 (msgpack over TCP): framing, decoding of the four event modes
 * (Message, Forward, PackedForward, CompressedPackedForward) and encoding for the forward output.
 */

/** An EventTime (ext type 0): seconds and nanoseconds, each a big-endian uint32. */
export class EventTime {
  constructor(
    readonly seconds: number,
    readonly nanoseconds: number,
  ) {}
  static fromNs(ns: bigint): EventTime {
    return new EventTime(Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n));
  }
}

/** Decodes ext 0 to nanoseconds (bigint); encodes `EventTime` instances as ext 0. */
export const forwardCodec = new ExtensionCodec();
forwardCodec.register({
  type: 0,
  encode: (v: unknown) => {
    if (!(v instanceof EventTime)) return null;
    const b = Buffer.alloc(8);
    b.writeUInt32BE(v.seconds >>> 0, 0);
    b.writeUInt32BE(v.nanoseconds >>> 0, 4);
    return b;
  },
  decode: (data: Uint8Array) => {
    if (data.length !== 8) throw new ForwardError('decode', `EventTime must be 8 bytes, got ${data.length}`);
    const v = new DataView(data.buffer, data.byteOffset, 8);
    const nsec = v.getUint32(4);
    if (nsec > 999_999_999) throw new ForwardError('decode', `EventTime nanoseconds out of range: ${nsec}`);
    return BigInt(v.getUint32(0)) * 1_000_000_000n + BigInt(nsec);
  },
});

/** Why a frame or message was refused: the `reason` label of `collector_input_rejected_total`. */
export class ForwardError extends Error {
  constructor(
    readonly reason: 'decode' | 'too_large' | 'protocol',
    message: string,
  ) {
    super(message);
  }
}

const MAX_DEPTH = 512;

/**
 * Cuts a TCP byte stream into whole msgpack objects without decoding them. The scan resumes where
 * it stopped when more bytes arrive (no rescans), and bytes are kept in one growing buffer, so a
 * large message arriving in many reads costs linear time. An object larger than `max` bytes is
 * refused as soon as its size is known (or once `max` bytes are pending).
 */
export class MsgpackFramer {
  private buf: Buffer = Buffer.alloc(0);
  private len = 0;
  private off = 0;
  private remaining = 1;
  private stack: number[] = [];

  constructor(private readonly max: number) {}

  /** Bytes received but not yet part of a whole object. */
  pending(): number {
    return this.len;
  }

  /** Adds bytes; returns the whole objects now available (each a copy), or throws ForwardError. */
  push(chunk: Buffer): Buffer[] {
    this.append(chunk);
    const frames: Buffer[] = [];
    for (;;) {
      const end = this.scan();
      if (end < 0) break;
      frames.push(Buffer.from(this.buf.subarray(0, end)));
      this.buf.copy(this.buf, 0, end, this.len);
      this.len -= end;
      this.off = 0;
      this.remaining = 1;
      this.stack = [];
    }
    if (this.len > this.max) {
      throw new ForwardError('too_large', `message exceeds buffer_max_size (${this.max} bytes)`);
    }
    return frames;
  }

  private append(chunk: Buffer): void {
    if (this.len + chunk.length > this.buf.length) {
      const next = Buffer.alloc(Math.max(this.len + chunk.length, this.buf.length * 2, 4096));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    chunk.copy(this.buf, this.len);
    this.len += chunk.length;
  }

  /** Advances over whole items; returns the end offset of a complete object, or -1 for more bytes. */
  private scan(): number {
    const b = this.buf;
    const len = this.len;
    while (this.remaining > 0) {
      const at = this.off;
      if (at >= len) return -1;
      const t = b[at]!;
      let head = 1;
      let body = 0;
      let children = 0;
      const need = (n: number) => at + n <= len;
      if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) {
        // fixint, nil, bool
      } else if (t >= 0x80 && t <= 0x8f) children = (t & 0x0f) * 2;
      else if (t >= 0x90 && t <= 0x9f) children = t & 0x0f;
      else if (t >= 0xa0 && t <= 0xbf) body = t & 0x1f;
      else {
        switch (t) {
          case 0xc4:
          case 0xd9:
            if (!need(2)) return -1;
            head = 2;
            body = b[at + 1]!;
            break;
          case 0xc5:
          case 0xda:
            if (!need(3)) return -1;
            head = 3;
            body = b.readUInt16BE(at + 1);
            break;
          case 0xc6:
          case 0xdb:
            if (!need(5)) return -1;
            head = 5;
            body = b.readUInt32BE(at + 1);
            break;
          case 0xc7:
            if (!need(2)) return -1;
            head = 3;
            body = b[at + 1]!;
            break;
          case 0xc8:
            if (!need(3)) return -1;
            head = 4;
            body = b.readUInt16BE(at + 1);
            break;
          case 0xc9:
            if (!need(5)) return -1;
            head = 6;
            body = b.readUInt32BE(at + 1);
            break;
          case 0xca:
          case 0xce:
          case 0xd2:
            head = 5;
            break;
          case 0xcb:
          case 0xcf:
          case 0xd3:
            head = 9;
            break;
          case 0xcc:
          case 0xd0:
            head = 2;
            break;
          case 0xcd:
          case 0xd1:
            head = 3;
            break;
          case 0xd4:
            head = 3;
            break;
          case 0xd5:
            head = 4;
            break;
          case 0xd6:
            head = 6;
            break;
          case 0xd7:
            head = 10;
            break;
          case 0xd8:
            head = 18;
            break;
          case 0xdc:
            if (!need(3)) return -1;
            head = 3;
            children = b.readUInt16BE(at + 1);
            break;
          case 0xdd:
            if (!need(5)) return -1;
            head = 5;
            children = b.readUInt32BE(at + 1);
            break;
          case 0xde:
            if (!need(3)) return -1;
            head = 3;
            children = b.readUInt16BE(at + 1) * 2;
            break;
          case 0xdf:
            if (!need(5)) return -1;
            head = 5;
            children = b.readUInt32BE(at + 1) * 2;
            break;
          default: // 0xc1 is never used
            throw new ForwardError('decode', `invalid msgpack type byte 0x${t.toString(16)} at offset ${at}`);
        }
      }
      const end = at + head + body;
      if (end > this.max) {
        throw new ForwardError('too_large', `message exceeds buffer_max_size (${this.max} bytes)`);
      }
      if (end > len) return -1;
      this.off = end;
      this.remaining--;
      if (children > 0) {
        if (this.stack.length >= MAX_DEPTH) {
          throw new ForwardError('decode', `msgpack nested deeper than ${MAX_DEPTH} levels`);
        }
        this.stack.push(this.remaining);
        this.remaining = children;
      }
      while (this.remaining === 0 && this.stack.length) this.remaining = this.stack.pop()!;
    }
    return this.off;
  }
}

/** One decoded forward message: its tag, events and the options that ask for an ack. */
export interface ForwardMessage {
  mode: 'Message' | 'Forward' | 'PackedForward' | 'CompressedPackedForward';
  tag: string;
  events: Array<{ time: bigint; record: Record<string, unknown> }>;
  /** `chunk` option: the sender waits for `{ack: chunk}`. */
  chunk?: string;
}

const utf8 = new TextDecoder('utf-8');

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

function isMap(v: unknown): v is Record<string, unknown> {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    !(v instanceof Uint8Array) &&
    !(v instanceof Date)
  );
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

const decodeOpts = { extensionCodec: forwardCodec, rawStrings: true } as const;

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

// ---- Shared-key handshake (HELO / PING / PONG) ----

const sha512hex = (...parts: Array<Uint8Array | string>) => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

/** sha512_hex(salt + hostname + nonce + shared_key), the digest both PING and PONG carry. */
export const sharedKeyDigest = (
  salt: Uint8Array | string,
  hostname: string,
  nonce: Uint8Array,
  key: string,
) => sha512hex(salt, hostname, nonce, key);

/** sha512_hex(auth_salt + username + password), PING's user credential. */
export const passwordDigest = (salt: Uint8Array, username: string, password: string) =>
  sha512hex(salt, username, password);

const handshakeArray = (frame: Uint8Array, name: string, min: number): unknown[] => {
  let m: unknown;
  try {
    m = decode(frame, decodeOpts);
  } catch (err) {
    throw new ForwardError('protocol', `${name}: invalid msgpack: ${(err as Error).message}`);
  }
  if (!Array.isArray(m) || m.length < min || !(m[0] instanceof Uint8Array) || utf8.decode(m[0]) !== name) {
    throw new ForwardError('protocol', `expected ${name} to start the shared-key handshake`);
  }
  return m;
};
const str = (v: unknown, what: string): string => {
  if (v instanceof Uint8Array) return utf8.decode(v);
  throw new ForwardError('protocol', `${what} must be a string`);
};
const bytes = (v: unknown, what: string): Uint8Array => {
  if (v instanceof Uint8Array) return v;
  throw new ForwardError('protocol', `${what} must be a string or binary`);
};

export function encodeHelo(nonce: Uint8Array, authSalt: Uint8Array | undefined): Uint8Array {
  return encode(['HELO', { nonce, auth: authSalt ?? '', keepalive: true }]);
}

export function parseHelo(frame: Uint8Array): { nonce: Uint8Array; authSalt: Uint8Array } {
  const m = handshakeArray(frame, 'HELO', 2);
  const o = m[1];
  if (!isMap(o)) throw new ForwardError('protocol', 'HELO options must be a map');
  return {
    nonce: bytes(o.nonce, 'HELO nonce'),
    authSalt: o.auth === undefined ? new Uint8Array() : bytes(o.auth, 'HELO auth'),
  };
}

export interface Ping {
  hostname: string;
  salt: Uint8Array;
  digest: string;
  username: string;
  passwordDigest: string;
}

export function encodePing(p: Ping): Uint8Array {
  return encode(['PING', p.hostname, p.salt, p.digest, p.username, p.passwordDigest]);
}

export function parsePing(frame: Uint8Array): Ping {
  const m = handshakeArray(frame, 'PING', 4);
  return {
    hostname: str(m[1], 'PING hostname'),
    salt: bytes(m[2], 'PING salt'),
    digest: str(m[3], 'PING digest'),
    username: m[4] === undefined ? '' : str(m[4], 'PING username'),
    passwordDigest: m[5] === undefined ? '' : str(m[5], 'PING password digest'),
  };
}

export function encodePong(ok: boolean, reason: string, hostname: string, digest: string): Uint8Array {
  return encode(['PONG', ok, reason, hostname, digest]);
}

export function parsePong(frame: Uint8Array): {
  ok: boolean;
  reason: string;
  hostname: string;
  digest: string;
} {
  const m = handshakeArray(frame, 'PONG', 5);
  if (typeof m[1] !== 'boolean') throw new ForwardError('protocol', 'PONG result must be a boolean');
  return {
    ok: m[1],
    reason: str(m[2], 'PONG reason'),
    hostname: str(m[3], 'PONG hostname'),
    digest: str(m[4], 'PONG digest'),
  };
}
