// UPDATE (RFC 4271 §4.3): withdrawn routes, path attributes, NLRI.
import { decodeAttributes, encodeAttributes } from './attributes.js';
import type { UpdateMessage } from './message-types.js';
import { readPrefixes, type Reader } from './reader.js';
import { AFI, ERR } from './wire.js';
import { prefixBytes, u16 } from './writer.js';

export function decodeUpdate(r: Reader, as4: boolean): UpdateMessage {
  const u: UpdateMessage = { type: 'update', withdrawn: [], nlri: [], other: [] };
  const wlen = r.u16('withdrawn routes length');
  u.withdrawn = readPrefixes(r.sub(wlen, 'withdrawn routes'), AFI.IPV4, 'withdrawn');
  const alen = r.u16('path attributes length');
  decodeAttributes(r.sub(alen, 'path attributes'), u, as4);
  const nlriAt = r.pos;
  u.nlri = readPrefixes(r.sub(r.left, 'NLRI'), AFI.IPV4, 'NLRI');
  if (u.nlri.length && (u.origin === undefined || u.asPath === undefined || u.nextHop === undefined)) {
    r.failAt(nlriAt, 'NLRI without ORIGIN, AS_PATH and NEXT_HOP', ERR.UPDATE, 3);
  }
  return u;
}

/** The UPDATE body (after the header). */
export function encodeUpdate(m: UpdateMessage, as4: boolean): Buffer {
  const withdrawn = Buffer.concat(m.withdrawn.map(prefixBytes));
  const a = encodeAttributes(m, as4);
  return Buffer.concat([u16(withdrawn.length), withdrawn, u16(a.length), a, ...m.nlri.map(prefixBytes)]);
}
