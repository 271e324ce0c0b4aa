// OPEN (RFC 4271 §4.2) with capabilities as optional parameter 2 (RFC 5492).
import type { Capability, OpenMessage } from './message-types.js';
import { ipFromBytes, type Reader } from './reader.js';
import { CAP, ERR } from './wire.js';
import { ipBytes, u16, u32, u8 } from './writer.js';

export function decodeOpen(r: Reader): OpenMessage {
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
    while (p.left > 0) capabilities.push(decodeCapability(p));
  }
  return { type: 'open', version, myAs, holdTime, bgpId, capabilities };
}

function decodeCapability(p: Reader): Capability {
  const code = p.u8('capability code');
  const clen = p.u8('capability length');
  const c = p.sub(clen, 'capability');
  if (code === CAP.MULTIPROTOCOL) {
    if (clen !== 4) c.fail('multiprotocol capability must be 4 bytes', ERR.OPEN, 0);
    const afi = c.u16('AFI');
    c.u8('reserved');
    return { code: 1, afi, safi: c.u8('SAFI') };
  }
  if (code === CAP.AS4) {
    if (clen !== 4) c.fail('4-octet AS capability must be 4 bytes', ERR.OPEN, 0);
    return { code: 65, as: c.u32('AS') };
  }
  if (code === CAP.ROUTE_REFRESH && clen === 0) return { code: 2 };
  return { code, data: Buffer.from(c.bytes(clen, 'capability value')) };
}

function encodeCapability(c: Capability): Buffer {
  let value: Buffer;
  if (c.code === CAP.MULTIPROTOCOL && 'afi' in c) value = Buffer.concat([u16(c.afi), u8(0), u8(c.safi)]);
  else if (c.code === CAP.AS4 && 'as' in c) value = u32(c.as);
  else if ('data' in c) value = c.data;
  else value = Buffer.alloc(0);
  return Buffer.concat([u8(c.code), u8(value.length), value]);
}

/** The OPEN body (after the header). */
export function encodeOpen(m: OpenMessage): Buffer {
  const caps = Buffer.concat(m.capabilities.map(encodeCapability));
  const params = caps.length ? Buffer.concat([u8(2), u8(caps.length), caps]) : Buffer.alloc(0);
  return Buffer.concat([
    u8(m.version),
    u16(m.myAs),
    u16(m.holdTime),
    ipBytes(m.bgpId),
    u8(params.length),
    params,
  ]);
}
