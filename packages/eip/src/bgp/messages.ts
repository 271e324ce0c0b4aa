// BGP-4 messages on the wire (RFC 4271 §4): the header, and the decoder and encoder over every
// message type. Pure: bytes in, typed messages out; no sockets. OPEN and UPDATE bodies are in
// open.ts and update.ts, path attributes in attributes.ts.
import { EipError } from '../errors.js';
import { BgpMessageError, type BgpMessage, type CodecOptions } from './message-types.js';
import { decodeOpen, encodeOpen } from './open.js';
import { Reader } from './reader.js';
import { decodeUpdate, encodeUpdate } from './update.js';
import { ERR, HEADER_LENGTH, MAX_MESSAGE_LENGTH, TYPE } from './wire.js';
import { u16, u8 } from './writer.js';

/** Decodes one message body (after the header). */
function decodeBody(
  type: number,
  buf: Buffer,
  start: number,
  end: number,
  base: number,
  opts: CodecOptions,
): BgpMessage {
  const r = new Reader(buf, start, end, base, ERR.HEADER, 2);
  switch (type) {
    case TYPE.OPEN:
      return decodeOpen(new Reader(buf, start, end, base, ERR.OPEN, 0));
    case TYPE.UPDATE:
      return decodeUpdate(new Reader(buf, start, end, base, ERR.UPDATE, 1), opts.as4 ?? true);
    case TYPE.NOTIFICATION:
      return {
        type: 'notification',
        code: r.u8('error code'),
        subcode: r.u8('error subcode'),
        data: Buffer.from(r.bytes(r.left, 'data')),
      };
    case TYPE.KEEPALIVE:
      if (end !== start) r.fail('KEEPALIVE has a body');
      return { type: 'keepalive' };
    case TYPE.ROUTE_REFRESH: {
      if (end - start !== 4) r.fail('ROUTE-REFRESH must be 4 bytes');
      const afi = r.u16('AFI');
      r.u8('reserved');
      return { type: 'route-refresh', afi, safi: r.u8('SAFI') };
    }
    default:
      throw new BgpMessageError(ERR.HEADER, 3, `bad message type ${type}`, base + start - 1);
  }
}

/**
 * Incremental decoder: feed bytes as they arrive, get whole messages; a partial message is kept
 * for the next chunk. The declared length is checked at the header, before the body is buffered.
 * After it throws, the stream is out of sync: send the NOTIFICATION and discard the parser.
 *
 * @example
 * const parser = new BgpParser();
 * socket.on('data', (chunk) => { for (const m of parser.push(chunk)) handle(m); });
 */
export class BgpParser {
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes consumed so far, for error offsets. */
  private consumed = 0;
  constructor(public options: CodecOptions = {}) {}

  push(chunk: Buffer): BgpMessage[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: BgpMessage[] = [];
    let pos = 0;
    while (this.buf.length - pos >= HEADER_LENGTH) {
      const base = this.consumed;
      for (let i = 0; i < 16; i++) {
        if (this.buf[pos + i] !== 0xff)
          throw new BgpMessageError(ERR.HEADER, 1, 'marker is not all ones', base + i);
      }
      const length = this.buf.readUInt16BE(pos + 16);
      const type = this.buf[pos + 18]!;
      if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) {
        throw new BgpMessageError(ERR.HEADER, 2, `bad message length ${length}`, base + 16);
      }
      if (this.buf.length - pos < length) break;
      out.push(decodeBody(type, this.buf, pos + HEADER_LENGTH, pos + length, base - pos, this.options));
      pos += length;
      this.consumed += length;
    }
    this.buf = this.buf.subarray(pos);
    return out;
  }

  /** Bytes held back waiting for the rest of a message. */
  get pending(): number {
    return this.buf.length;
  }
}

/** A message: the header (marker, length, type), then the body. */
function frame(type: number, body: Buffer): Buffer {
  const length = HEADER_LENGTH + body.length;
  if (length > MAX_MESSAGE_LENGTH)
    throw new EipError(
      'SPROUT_ERR_EIP_BGP_MESSAGE',
      `message of ${length} bytes is over ${MAX_MESSAGE_LENGTH}`,
    );
  const head = Buffer.alloc(HEADER_LENGTH, 0xff);
  head.writeUInt16BE(length, 16);
  head[18] = type;
  return Buffer.concat([head, body]);
}

/** Encodes a message with its header. */
export function encodeMessage(m: BgpMessage, opts: CodecOptions = {}): Buffer {
  switch (m.type) {
    case 'open':
      return frame(TYPE.OPEN, encodeOpen(m));
    case 'update':
      return frame(TYPE.UPDATE, encodeUpdate(m, opts.as4 ?? true));
    case 'notification':
      return frame(TYPE.NOTIFICATION, Buffer.concat([u8(m.code), u8(m.subcode), m.data]));
    case 'keepalive':
      return frame(TYPE.KEEPALIVE, Buffer.alloc(0));
    case 'route-refresh':
      return frame(TYPE.ROUTE_REFRESH, Buffer.concat([u16(m.afi), u8(0), u8(m.safi)]));
  }
}
