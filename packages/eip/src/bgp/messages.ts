// BGP-4 messages (RFC 4271) with capabilities (RFC 5492), multiprotocol (RFC 4760) and 4-octet AS
// numbers (RFC 6793). Pure: bytes in, typed messages out; no sockets.
import { EipError } from '../errors.js';
import { formatIp, parseIp } from '../ip.js';

export const MARKER = Buffer.alloc(16, 0xff);
export const HEADER_LENGTH = 19;
export const MAX_MESSAGE_LENGTH = 4096;
export const AS_TRANS = 23456;

export const AFI = { IPV4: 1, IPV6: 2 } as const;
export const SAFI_UNICAST = 1;
export const CAP = { MULTIPROTOCOL: 1, ROUTE_REFRESH: 2, AS4: 65 } as const;
export const ATTR = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MED: 4,
  LOCAL_PREF: 5,
  MP_REACH: 14,
  MP_UNREACH: 15,
} as const;
const FLAG = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED: 0x10 } as const;

/** NOTIFICATION error codes (RFC 4271 §4.5). */
export const ERR = { HEADER: 1, OPEN: 2, UPDATE: 3, HOLD_TIMER: 4, FSM: 5, CEASE: 6 } as const;

export type Capability =
  | { code: 1; afi: number; safi: number }
  | { code: 2 }
  | { code: 65; as: number }
  | { code: number; data: Buffer };

export interface OpenMessage {
  type: 'open';
  version: number;
  /** The 2-octet field; AS_TRANS when the real AS needs 4 octets (see the AS4 capability). */
  myAs: number;
  holdTime: number;
  bgpId: string;
  capabilities: Capability[];
}

/** A prefix: address text and length. */
export interface Prefix {
  prefix: string;
  length: number;
}

export interface PathAttribute {
  flags: number;
  code: number;
  data: Buffer;
}

export interface UpdateMessage {
  type: 'update';
  withdrawn: Prefix[];
  origin?: number;
  asPath?: number[];
  nextHop?: string;
  localPref?: number;
  med?: number;
  nlri: Prefix[];
  mpReach?: { afi: number; safi: number; nextHop: string[]; nlri: Prefix[] };
  mpUnreach?: { afi: number; safi: number; withdrawn: Prefix[] };
  /** Attributes not understood here, kept as they came. */
  other: PathAttribute[];
}

export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  data: Buffer;
}

export interface KeepaliveMessage {
  type: 'keepalive';
}

export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
}

export type BgpMessage =
  OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** A malformed message; carries the NOTIFICATION code/subcode to send and the byte offset at fault. */
export class BgpMessageError extends EipError {
  constructor(
    readonly notifyCode: number,
    readonly notifySubcode: number,
    message: string,
    readonly offset: number,
  ) {
    super(
      'SPROUT_ERR_EIP_BGP_MESSAGE',
      `${message} (at byte ${offset}; NOTIFICATION ${notifyCode}/${notifySubcode})`,
    );
  }
}

export interface CodecOptions {
  /** Both sides sent the 4-octet AS capability: AS_PATH numbers are 4 octets. Default true. */
  as4?: boolean;
}

// ---- decoding ----------------------------------------------------------------------------------

class Reader {
  /** Where the last field read began: the offset reported for a bad value. */
  private at: number;
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
    readonly base: number,
    readonly code: number,
    readonly subcode: number,
  ) {
    this.at = pos;
  }
  fail(why: string, code = this.code, subcode = this.subcode): never {
    return this.failAt(this.at, why, code, subcode);
  }
  failAt(pos: number, why: string, code = this.code, subcode = this.subcode): never {
    throw new BgpMessageError(code, subcode, why, this.base + pos);
  }
  need(n: number, what: string): void {
    if (this.pos + n > this.end) this.failAt(this.pos, `${what} runs past the end of the message`);
  }
  u8(what: string): number {
    this.need(1, what);
    this.at = this.pos;
    return this.buf[this.pos++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    this.at = this.pos;
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    this.at = this.pos;
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    this.at = this.pos;
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  sub(n: number, what: string): Reader {
    this.need(n, what);
    this.at = this.pos;
    const r = new Reader(this.buf, this.pos, this.pos + n, this.base, this.code, this.subcode);
    this.pos += n;
    return r;
  }
  get left(): number {
    return this.end - this.pos;
  }
}

function readPrefixes(r: Reader, afi: number, what: string): Prefix[] {
  const out: Prefix[] = [];
  const bits = afi === AFI.IPV6 ? 128 : 32;
  while (r.left > 0) {
    const length = r.u8(`${what} prefix length`);
    if (length > bits) r.fail(`${what} prefix length ${length} is over ${bits}`);
    const raw = r.bytes(Math.ceil(length / 8), `${what} prefix`);
    const full = Buffer.alloc(bits / 8);
    raw.copy(full);
    let value = 0n;
    for (const b of full) value = (value << 8n) | BigInt(b);
    out.push({ prefix: formatIp({ family: afi === AFI.IPV6 ? 6 : 4, value }), length });
  }
  return out;
}

function ipFromBytes(b: Buffer): string {
  let value = 0n;
  for (const x of b) value = (value << 8n) | BigInt(x);
  return formatIp({ family: b.length === 4 ? 4 : 6, value });
}

function decodeOpen(r: Reader): OpenMessage {
  const version = r.u8('version');
  if (version !== 4) r.fail(`unsupported BGP version ${version}`, ERR.OPEN, 1);
  const myAs = r.u16('my AS');
  const holdTime = r.u16('hold time');
  if (holdTime === 1 || holdTime === 2) r.fail(`unacceptable hold time ${holdTime}`, ERR.OPEN, 6);
  const bgpId = ipFromBytes(r.bytes(4, 'BGP identifier'));
  const optLen = r.u8('optional parameters length');
  const params = r.sub(optLen, 'optional parameters');
  if (r.left) r.fail('bytes after the optional parameters', ERR.OPEN, 0);
  const capabilities: Capability[] = [];
  while (params.left > 0) {
    const typeAt = params.pos;
    const type = params.u8('parameter type');
    const len = params.u8('parameter length');
    const p = params.sub(len, 'parameter');
    if (type !== 2) p.failAt(typeAt, `unsupported optional parameter ${type}`, ERR.OPEN, 4);
    while (p.left > 0) {
      const code = p.u8('capability code');
      const clen = p.u8('capability length');
      const c = p.sub(clen, 'capability');
      if (code === CAP.MULTIPROTOCOL) {
        if (clen !== 4) c.fail('multiprotocol capability must be 4 bytes', ERR.OPEN, 0);
        const afi = c.u16('AFI');
        c.u8('reserved');
        capabilities.push({ code: 1, afi, safi: c.u8('SAFI') });
      } else if (code === CAP.AS4) {
        if (clen !== 4) c.fail('4-octet AS capability must be 4 bytes', ERR.OPEN, 0);
        capabilities.push({ code: 65, as: c.u32('AS') });
      } else if (code === CAP.ROUTE_REFRESH && clen === 0) {
        capabilities.push({ code: 2 });
      } else {
        capabilities.push({ code, data: Buffer.from(c.bytes(clen, 'capability value')) });
      }
    }
  }
  return { type: 'open', version, myAs, holdTime, bgpId, capabilities };
}

function decodeUpdate(r: Reader, as4: boolean): UpdateMessage {
  const u: UpdateMessage = { type: 'update', withdrawn: [], nlri: [], other: [] };
  const wlen = r.u16('withdrawn routes length');
  u.withdrawn = readPrefixes(r.sub(wlen, 'withdrawn routes'), AFI.IPV4, 'withdrawn');
  const alen = r.u16('path attributes length');
  const attrs = r.sub(alen, 'path attributes');
  const seen = new Set<number>();
  while (attrs.left > 0) {
    const flags = attrs.u8('attribute flags');
    const code = attrs.u8('attribute type');
    const len = flags & FLAG.EXTENDED ? attrs.u16('attribute length') : attrs.u8('attribute length');
    const a = attrs.sub(len, `attribute ${code}`);
    if (seen.has(code)) a.fail(`attribute ${code} appears twice`, ERR.UPDATE, 1);
    seen.add(code);
    switch (code) {
      case ATTR.ORIGIN:
        if (len !== 1) a.fail('ORIGIN must be 1 byte', ERR.UPDATE, 5);
        u.origin = a.u8('ORIGIN');
        if (u.origin > 2) a.fail(`ORIGIN ${u.origin} is not IGP, EGP or INCOMPLETE`, ERR.UPDATE, 6);
        break;
      case ATTR.AS_PATH: {
        u.asPath = [];
        while (a.left > 0) {
          a.u8('AS_PATH segment type');
          const n = a.u8('AS_PATH segment length');
          for (let i = 0; i < n; i++) u.asPath.push(as4 ? a.u32('AS') : a.u16('AS'));
        }
        break;
      }
      case ATTR.NEXT_HOP:
        if (len !== 4) a.fail('NEXT_HOP must be 4 bytes', ERR.UPDATE, 5);
        u.nextHop = ipFromBytes(a.bytes(4, 'NEXT_HOP'));
        break;
      case ATTR.MED:
        if (len !== 4) a.fail('MULTI_EXIT_DISC must be 4 bytes', ERR.UPDATE, 5);
        u.med = a.u32('MED');
        break;
      case ATTR.LOCAL_PREF:
        if (len !== 4) a.fail('LOCAL_PREF must be 4 bytes', ERR.UPDATE, 5);
        u.localPref = a.u32('LOCAL_PREF');
        break;
      case ATTR.MP_REACH: {
        const afi = a.u16('MP_REACH AFI');
        const safi = a.u8('MP_REACH SAFI');
        const nhLen = a.u8('MP_REACH next hop length');
        const nh = a.bytes(nhLen, 'MP_REACH next hop');
        const step = afi === AFI.IPV6 ? 16 : 4;
        if (nhLen === 0 || nhLen % step !== 0) a.fail(`MP_REACH next hop length ${nhLen}`, ERR.UPDATE, 9);
        const nextHop: string[] = [];
        for (let i = 0; i < nhLen; i += step) nextHop.push(ipFromBytes(nh.subarray(i, i + step)));
        a.u8('MP_REACH reserved');
        u.mpReach = { afi, safi, nextHop, nlri: readPrefixes(a, afi, 'MP_REACH') };
        break;
      }
      case ATTR.MP_UNREACH: {
        const afi = a.u16('MP_UNREACH AFI');
        const safi = a.u8('MP_UNREACH SAFI');
        u.mpUnreach = { afi, safi, withdrawn: readPrefixes(a, afi, 'MP_UNREACH') };
        break;
      }
      default:
        u.other.push({ flags, code, data: Buffer.from(a.bytes(len, 'attribute')) });
    }
  }
  const nlriAt = r.pos;
  u.nlri = readPrefixes(r.sub(r.left, 'NLRI'), AFI.IPV4, 'NLRI');
  if (u.nlri.length && (u.origin === undefined || u.asPath === undefined || u.nextHop === undefined)) {
    r.failAt(nlriAt, 'NLRI without ORIGIN, AS_PATH and NEXT_HOP', ERR.UPDATE, 3);
  }
  return u;
}

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
    case 1:
      return decodeOpen(new Reader(buf, start, end, base, ERR.OPEN, 0));
    case 2:
      return decodeUpdate(new Reader(buf, start, end, base, ERR.UPDATE, 1), opts.as4 ?? true);
    case 3:
      return {
        type: 'notification',
        code: r.u8('error code'),
        subcode: r.u8('error subcode'),
        data: Buffer.from(r.bytes(r.left, 'data')),
      };
    case 4:
      if (end !== start) r.fail('KEEPALIVE has a body');
      return { type: 'keepalive' };
    case 5: {
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

// ---- encoding ----------------------------------------------------------------------------------

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

const u8 = (v: number) => Buffer.from([v]);
const u16 = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
};
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};
function ipBytes(text: string): Buffer {
  const ip = parseIp(text);
  const n = ip.family === 4 ? 4 : 16;
  const b = Buffer.alloc(n);
  let v = ip.value;
  for (let i = n - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}
function prefixBytes(p: Prefix): Buffer {
  return Buffer.concat([u8(p.length), ipBytes(p.prefix).subarray(0, Math.ceil(p.length / 8))]);
}
function attr(flags: number, code: number, data: Buffer): Buffer {
  const ext = data.length > 255;
  return Buffer.concat([
    u8(flags | (ext ? FLAG.EXTENDED : 0)),
    u8(code),
    ext ? u16(data.length) : u8(data.length),
    data,
  ]);
}

function encodeCapability(c: Capability): Buffer {
  let value: Buffer;
  if (c.code === CAP.MULTIPROTOCOL && 'afi' in c) value = Buffer.concat([u16(c.afi), u8(0), u8(c.safi)]);
  else if (c.code === CAP.AS4 && 'as' in c) value = u32(c.as);
  else if ('data' in c) value = c.data;
  else value = Buffer.alloc(0);
  return Buffer.concat([u8(c.code), u8(value.length), value]);
}

/** Encodes a message with its header. */
export function encodeMessage(m: BgpMessage, opts: CodecOptions = {}): Buffer {
  switch (m.type) {
    case 'open': {
      const caps = Buffer.concat(m.capabilities.map(encodeCapability));
      const params = caps.length ? Buffer.concat([u8(2), u8(caps.length), caps]) : Buffer.alloc(0);
      return frame(
        1,
        Buffer.concat([
          u8(m.version),
          u16(m.myAs),
          u16(m.holdTime),
          ipBytes(m.bgpId),
          u8(params.length),
          params,
        ]),
      );
    }
    case 'update': {
      const as4 = opts.as4 ?? true;
      const withdrawn = Buffer.concat(m.withdrawn.map(prefixBytes));
      const attrs: Buffer[] = [];
      if (m.origin !== undefined) attrs.push(attr(FLAG.TRANSITIVE, ATTR.ORIGIN, u8(m.origin)));
      if (m.asPath !== undefined) {
        const seg = m.asPath.length
          ? Buffer.concat([u8(2), u8(m.asPath.length), ...m.asPath.map((a) => (as4 ? u32(a) : u16(a)))])
          : Buffer.alloc(0);
        attrs.push(attr(FLAG.TRANSITIVE, ATTR.AS_PATH, seg));
      }
      if (m.nextHop !== undefined) attrs.push(attr(FLAG.TRANSITIVE, ATTR.NEXT_HOP, ipBytes(m.nextHop)));
      if (m.med !== undefined) attrs.push(attr(FLAG.OPTIONAL, ATTR.MED, u32(m.med)));
      if (m.localPref !== undefined) attrs.push(attr(FLAG.TRANSITIVE, ATTR.LOCAL_PREF, u32(m.localPref)));
      if (m.mpReach) {
        const nh = Buffer.concat(m.mpReach.nextHop.map(ipBytes));
        const body = Buffer.concat([
          u16(m.mpReach.afi),
          u8(m.mpReach.safi),
          u8(nh.length),
          nh,
          u8(0),
          ...m.mpReach.nlri.map(prefixBytes),
        ]);
        attrs.push(attr(FLAG.OPTIONAL, ATTR.MP_REACH, body));
      }
      if (m.mpUnreach) {
        const body = Buffer.concat([
          u16(m.mpUnreach.afi),
          u8(m.mpUnreach.safi),
          ...m.mpUnreach.withdrawn.map(prefixBytes),
        ]);
        attrs.push(attr(FLAG.OPTIONAL, ATTR.MP_UNREACH, body));
      }
      for (const o of m.other) attrs.push(attr(o.flags & ~FLAG.EXTENDED, o.code, o.data));
      const a = Buffer.concat(attrs);
      return frame(
        2,
        Buffer.concat([u16(withdrawn.length), withdrawn, u16(a.length), a, ...m.nlri.map(prefixBytes)]),
      );
    }
    case 'notification':
      return frame(3, Buffer.concat([u8(m.code), u8(m.subcode), m.data]));
    case 'keepalive':
      return frame(4, Buffer.alloc(0));
    case 'route-refresh':
      return frame(5, Buffer.concat([u16(m.afi), u8(0), u8(m.safi)]));
  }
}
