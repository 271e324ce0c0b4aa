// UPDATE path attributes (RFC 4271 §4.3, §5; MP_REACH/MP_UNREACH RFC 4760 §3-4).
import type { UpdateMessage } from './message-types.js';
import { ipFromBytes, readPrefixes, type Reader } from './reader.js';
import { AFI, ATTR, ERR, FLAG } from './wire.js';
import { ipBytes, prefixBytes, u16, u32, u8 } from './writer.js';

/**
 * Reads the path attributes into `u`: the well-known ones into their fields, others kept as they
 * came. A repeated attribute or a wrong length is an UPDATE error with its subcode.
 */
export function decodeAttributes(attrs: Reader, u: UpdateMessage, as4: boolean): void {
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
}

/** One attribute: flags (EXTENDED set when the value needs a 2-byte length), type, length, value. */
function attr(flags: number, code: number, data: Buffer): Buffer {
  const ext = data.length > 255;
  return Buffer.concat([
    u8(flags | (ext ? FLAG.EXTENDED : 0)),
    u8(code),
    ext ? u16(data.length) : u8(data.length),
    data,
  ]);
}

/** The path attributes of `m`, well-known ones first in type order, then the others as they came. */
export function encodeAttributes(m: UpdateMessage, as4: boolean): Buffer {
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
  return Buffer.concat(attrs);
}
