import { EipError } from './errors.js';

export type IpFamily = 4 | 6;

/** One address as a number; IPv4 in the low 32 bits, IPv6 in 128. */
export interface Ip {
  family: IpFamily;
  value: bigint;
}

/** A contiguous block of addresses, from a single IP, a CIDR or an `A-B` range. */
export interface AddressBlock {
  family: IpFamily;
  first: bigint;
  last: bigint;
  /** Set when the block was written as a CIDR. */
  prefix?: number;
  /** The text it was parsed from, trimmed. */
  text: string;
}

const MAX = { 4: (1n << 32n) - 1n, 6: (1n << 128n) - 1n } as const;
const BITS = { 4: 32, 6: 128 } as const;

function bad(text: string, why: string, field?: string): EipError {
  return new EipError('SPROUT_ERR_EIP_BAD_ADDRESS', `'${text}' ${why}`, field);
}

function parseV4(text: string, field?: string): bigint {
  const parts = text.split('.');
  if (parts.length !== 4) throw bad(text, 'is not an IPv4 address (need four dotted numbers)', field);
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) throw bad(text, `has a bad IPv4 part '${p}'`, field);
    if (p.length > 1 && p.startsWith('0')) throw bad(text, `has a leading zero in '${p}' (ambiguous)`, field);
    const n = Number(p);
    if (n > 255) throw bad(text, `has an IPv4 part over 255 ('${p}')`, field);
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseGroups(part: string, text: string, field?: string): number[] {
  if (part === '') return [];
  return part.split(':').map((g) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad(text, `has a bad IPv6 group '${g}'`, field);
    return parseInt(g, 16);
  });
}

function parseV6(text: string, field?: string): bigint {
  if (text.includes('%'))
    throw bad(text, 'has an IPv6 zone; zones are not allowed in pools or requests', field);
  let body = text;
  let tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (body.slice(lastColon + 1).includes('.')) {
    const v4 = parseV4(body.slice(lastColon + 1), field);
    tail = [Number(v4 >> 16n), Number(v4 & 0xffffn)];
    body = body.slice(0, lastColon + 1);
    if (body.endsWith(':') && !body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) throw bad(text, "has more than one '::'", field);
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0]!, text, field);
    const rest = [...parseGroups(halves[1]!, text, field), ...tail];
    const fill = 8 - head.length - rest.length;
    if (fill < 1) throw bad(text, "has too many groups for '::'", field);
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    groups = [...parseGroups(body, text, field), ...tail];
    if (groups.length !== 8) throw bad(text, 'is not an IPv6 address (need eight groups or ::)', field);
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/**
 * Parses one IPv4 or IPv6 address. Rejects zones, leading zeros and anything `net.isIP` would reject.
 *
 * @example
 * parseIp('10.0.0.1'); // { family: 4, value: 167772161n }
 */
export function parseIp(text: string, field?: string): Ip {
  const t = text.trim();
  if (t === '') throw bad(text, 'is empty', field);
  if (t.includes(':')) return { family: 6, value: parseV6(t, field) };
  return { family: 4, value: parseV4(t, field) };
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed). */
export function formatIp(ip: Ip): string {
  if (ip.family === 4) {
    const v = Number(ip.value);
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
  }
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Canonical form of an address given as text. */
export function canonicalIp(text: string, field?: string): string {
  return formatIp(parseIp(text, field));
}

/**
 * Parses an Eip `spec.address`: a single IP, a CIDR (`10.0.0.0/24`, host bits must be zero) or an
 * `A-B` range (same family, A ≤ B).
 */
export function parseAddressBlock(text: string, field = 'spec.address'): AddressBlock {
  const t = text.trim();
  if (t === '') throw bad(text, 'is empty', field);
  const slash = t.indexOf('/');
  if (slash >= 0) {
    const base = parseIp(t.slice(0, slash), field);
    const p = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > BITS[base.family] || (p.length > 1 && p.startsWith('0'))) {
      throw bad(t, `has a bad prefix length '/${p}' (0-${BITS[base.family]})`, field);
    }
    const prefix = Number(p);
    const hostBits = BigInt(BITS[base.family] - prefix);
    const hostMask = (1n << hostBits) - 1n;
    if ((base.value & hostMask) !== 0n) {
      const net = formatIp({ family: base.family, value: base.value & ~hostMask & MAX[base.family] });
      throw bad(t, `has host bits set; did you mean ${net}/${prefix}?`, field);
    }
    return { family: base.family, first: base.value, last: base.value | hostMask, prefix, text: t };
  }
  const dash = t.indexOf('-');
  if (dash >= 0) {
    const a = parseIp(t.slice(0, dash), field);
    const b = parseIp(t.slice(dash + 1), field);
    if (a.family !== b.family) throw bad(t, 'mixes IPv4 and IPv6 in one range', field);
    if (a.value > b.value) throw bad(t, 'is inverted: the first address is after the last', field);
    return { family: a.family, first: a.value, last: b.value, text: t };
  }
  const ip = parseIp(t, field);
  return { family: ip.family, first: ip.value, last: ip.value, text: t };
}

/** Number of addresses in a block. */
export function blockSize(b: AddressBlock): bigint {
  return b.last - b.first + 1n;
}

export function blocksOverlap(a: AddressBlock, b: AddressBlock): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export function blockContains(b: AddressBlock, ip: Ip): boolean {
  return b.family === ip.family && ip.value >= b.first && ip.value <= b.last;
}

/**
 * Addresses of a CIDR block that are not handed out unless allowed: the IPv4 network and broadcast
 * addresses (prefix ≤ 30) and the IPv6 subnet-router anycast address (prefix ≤ 126).
 */
export function reservedAddresses(b: AddressBlock): bigint[] {
  if (b.prefix === undefined) return [];
  if (b.family === 4) return b.prefix <= 30 ? [b.first, b.last] : [];
  return b.prefix <= 126 ? [b.first] : [];
}
