import { BlockList, isIP } from 'node:net';

/** One CIDR block: its address family, network address as written, and prefix length. */
export interface Cidr {
  text: string;
  family: 4 | 6;
  address: string;
  prefix: number;
}

/** Parses `10.233.64.0/18` or `fd85::/112`; undefined when it is not a CIDR. */
function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) return undefined;
  const family = isIP(m[1]!);
  const prefix = Number(m[2]);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
  return { text: text.trim(), family: family as 4 | 6, address: m[1]!, prefix };
}

/** KubeKey's dual-stack form: up to one IPv4 and one IPv6 CIDR, comma-separated. */
export function parseCidrList(text: string): { cidrs: Cidr[]; bad: string[] } {
  const cidrs: Cidr[] = [];
  const bad: string[] = [];
  for (const part of text.split(',')) {
    const c = parseCidr(part);
    if (c) cidrs.push(c);
    else bad.push(part.trim());
  }
  return { cidrs, bad };
}

function type(c: Cidr): 'ipv4' | 'ipv6' {
  return c.family === 4 ? 'ipv4' : 'ipv6';
}

/** True when `cidr` contains the address `ip` (of the same family). */
export function cidrContains(cidr: Cidr, ip: string): boolean {
  const family = isIP(ip);
  if (family !== cidr.family) return false;
  const list = new BlockList();
  list.addSubnet(cidr.address, cidr.prefix, type(cidr));
  return list.check(ip, type(cidr));
}

/** True when two blocks share an address (one contains the other's network address). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  return cidrContains(a, b.address) || cidrContains(b, a.address);
}
