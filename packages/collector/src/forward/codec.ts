import { ExtensionCodec } from '@msgpack/msgpack';

/**
 * Fluentd Forward Protocol v1 (msgpack over TCP), the pieces every part of it shares: the EventTime
 * extension, the coded error, and the decode options that keep raw strings as bytes.
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

/** Decode options: raw strings stay bytes (so packed event streams survive), ext 0 is an EventTime. */
export const decodeOpts = { extensionCodec: forwardCodec, rawStrings: true } as const;

export const utf8 = new TextDecoder('utf-8');

/** A msgpack map decoded to an object (not an array, binary or timestamp). */
export function isMap(v: unknown): v is Record<string, unknown> {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    !(v instanceof Uint8Array) &&
    !(v instanceof Date)
  );
}
