import type { PoolUsage } from '../allocation.js';
import { blockSize, formatIp, parseIp, reservedAddresses, type IpFamily } from '../ip.js';
import type { Pool } from '../spec.js';
import { Occupancy } from './occupancy.js';

/** One pool as the allocator tracks it: its reserved addresses, how many are used, and which. */
export interface PoolState {
  pool: Pool;
  reserved: Set<bigint>;
  size: bigint;
  /** `size` as a float, for comparisons on the hot path. */
  sizeNumber: number;
  /** IPv4 pools: first and last address as numbers. */
  firstNumber: number;
  lastNumber: number;
  used: number;
  occupancy: Occupancy;
  /** Beyond the window: lowest address that may be free. */
  hint: bigint;
}

/** A pool with nothing held yet; `window` addresses are tracked in its bitmap. */
export function createPoolState(pool: Pool, window: number): PoolState {
  const reserved = new Set(pool.allowReserved ? [] : reservedAddresses(pool.block));
  const span = blockSize(pool.block);
  const size = span - BigInt(reserved.size);
  const ps: PoolState = {
    pool,
    reserved,
    size,
    sizeNumber: Number(size),
    firstNumber: Number(pool.block.first),
    lastNumber: Number(pool.block.last),
    used: 0,
    occupancy: new Occupancy(span < BigInt(window) ? Number(span) : window),
    hint: pool.block.first + BigInt(window),
  };
  for (const v of reserved) {
    if (v - pool.block.first < BigInt(ps.occupancy.bits)) ps.occupancy.set(Number(v - pool.block.first));
  }
  return ps;
}

/** Canonical IPv4 text to its value, without the general parser. */
function ipv4Number(text: string): number {
  let v = 0;
  let octet = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      v = v * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + c - 48;
  }
  return v * 256 + octet;
}

/** Dotted quad of an IPv4 value (what `formatIp` gives, without the array). */
const v4Text = (v: number) => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;

/** Marks an address of a pool taken or free in its bitmap (or, beyond it, moves the search hint). */
export function markAddress(p: PoolState, ip: string, taken: boolean): void {
  const block = p.pool.block;
  let off = -1;
  let beyond: bigint | undefined;
  if (block.family === 4) {
    if (ip.includes(':')) return;
    const n = ipv4Number(ip);
    if (n < p.firstNumber || n > p.lastNumber) return;
    off = n - p.firstNumber;
    if (off >= p.occupancy.bits) beyond = BigInt(n);
  } else {
    if (!ip.includes(':')) return;
    const v = parseIp(ip).value;
    if (v < block.first || v > block.last) return;
    if (v - block.first < BigInt(p.occupancy.bits)) off = Number(v - block.first);
    else beyond = v;
  }
  if (beyond === undefined) {
    if (taken) p.occupancy.set(off);
    else if (!p.reserved.size || !p.reserved.has(block.first + BigInt(off))) p.occupancy.clear(off);
  } else if (!taken && beyond < p.hint && !p.reserved.has(beyond)) p.hint = beyond;
}

/**
 * Lowest free address of a pool as canonical text: from the bitmap, then (huge pools only) beyond
 * it, where `held` says which addresses are taken.
 */
export function firstFreeAddress(ps: PoolState, held: ReadonlyMap<string, unknown>): string | undefined {
  if (ps.used >= ps.sizeNumber) return undefined;
  const { family, first, last } = ps.pool.block;
  const offset = ps.occupancy.firstFree();
  if (offset !== undefined) return addressText(family, first + BigInt(offset));
  for (let v = ps.hint; v <= last; v++) {
    if (!ps.reserved.has(v) && !held.has(formatIp({ family, value: v }))) {
      ps.hint = v;
      return addressText(family, v);
    }
  }
  return undefined;
}

const addressText = (family: IpFamily, v: bigint) =>
  family === 4 ? v4Text(Number(v)) : formatIp({ family, value: v });

/** A pool's size, used and free counts. */
export function poolUsage({ pool, size, used }: PoolState): PoolUsage {
  return {
    name: pool.name,
    family: pool.block.family,
    address: pool.block.text,
    protocol: pool.protocol,
    isDefault: pool.isDefault,
    disabled: pool.disable,
    priority: pool.priority,
    size: Number(size),
    used,
    free: Number(size - BigInt(used)),
  };
}
