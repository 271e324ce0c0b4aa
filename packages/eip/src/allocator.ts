import { blockContains, blockSize, formatIp, parseIp, reservedAddresses, type IpFamily } from './ip.js';
import { poolServesNamespace, type Namespace, type Pool } from './spec.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export interface ServicePort {
  port: number;
  protocol: Protocol;
}
export type IpFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

/** What a service asks for; mirrors the OpenELB Service annotations and Service spec fields. */
export interface AllocationRequest {
  namespace: string;
  name: string;
  /** A pool by name (OpenELB `eip.openelb.kubesphere.io/v1alpha2` annotation). */
  pool?: string;
  /** Specific addresses, at most one per family (OpenELB `eip.openelb.kubesphere.io/v1alpha1` / loadBalancerIP). */
  ips?: string[];
  /** Services with the same key may share an address when their ports do not overlap (MetalLB). */
  sharingKey?: string;
  ports?: ServicePort[];
  ipFamilyPolicy?: IpFamilyPolicy;
  /** Family order; default IPv4 first. */
  ipFamilies?: ('IPv4' | 'IPv6')[];
}

/** One address held by a service. */
export interface Allocation {
  ip: string;
  family: IpFamily;
  pool: string;
  sharingKey?: string;
  ports: ServicePort[];
}

export type PendingReason =
  | 'NoPoolForNamespace'
  | 'PoolNotFound'
  | 'PoolDisabled'
  | 'PoolExhausted'
  | 'IpNotInPool'
  | 'IpInUse'
  | 'IpReserved'
  | 'FamilyUnavailable';

/** Why a service has no address yet, as a Kubernetes-style condition. */
export interface PendingCondition {
  reason: PendingReason;
  message: string;
}

export interface ServiceState {
  key: string;
  namespace: string;
  name: string;
  request: AllocationRequest;
  status: 'allocated' | 'pending';
  addresses: Allocation[];
  condition?: PendingCondition;
}

export interface PoolUsage {
  name: string;
  family: IpFamily;
  address: string;
  protocol: Pool['protocol'];
  isDefault: boolean;
  disabled: boolean;
  priority: number;
  /** Addresses that can be handed out (reserved ones excluded); a float above 2^53. */
  size: number;
  used: number;
  free: number;
}

/**
 * The services holding one address with their ports, in the order they took it: the first one
 * inline, further ones (a shared address) in a Map, so the common unshared address costs no Map.
 */
class Holder {
  private key: string | undefined;
  private ports: ServicePort[] = [];
  private more: Map<string, ServicePort[]> | undefined;

  constructor(
    readonly pool: string,
    readonly sharingKey: string | undefined,
  ) {}

  get size(): number {
    return this.key === undefined ? 0 : 1 + (this.more?.size ?? 0);
  }

  set(key: string, ports: ServicePort[]): void {
    if (this.key === undefined || this.key === key) {
      this.key = key;
      this.ports = ports;
    } else (this.more ??= new Map()).set(key, ports);
  }

  delete(key: string): void {
    if (this.key !== key) {
      this.more?.delete(key);
      return;
    }
    const next = this.more?.entries().next();
    if (next && !next.done) {
      [this.key, this.ports] = next.value;
      this.more!.delete(this.key);
    } else {
      this.key = undefined;
      this.ports = [];
    }
  }

  entries(): [string, ServicePort[]][] {
    if (this.key === undefined) return [];
    const out: [string, ServicePort[]][] = [[this.key, this.ports]];
    if (this.more) out.push(...this.more);
    return out;
  }

  keys(): string[] {
    return this.entries().map((e) => e[0]);
  }
}

/** Offsets covered by a pool's bitmap: 2^24 (2 MiB at most, grown as it fills). */
const WINDOW = 2 ** 24;

/**
 * Which addresses of a pool are taken, as a bitmap over offsets from the pool's first address,
 * with a cursor below which every word is full: the lowest free address is found a word (32
 * addresses) at a time instead of probing addresses one by one. Pools larger than the window
 * (IPv6) cover their first 2^24 offsets here; beyond that they are searched address by address.
 */
class Occupancy {
  private words: Uint32Array;
  /** Every word below this index is full. */
  private cursor = 0;
  private readonly totalWords: number;

  constructor(readonly bits: number) {
    this.totalWords = Math.ceil(bits / 32);
    this.words = new Uint32Array(Math.min(this.totalWords, 128));
  }

  set(offset: number): void {
    const w = offset >>> 5;
    if (w >= this.words.length) {
      const grown = new Uint32Array(Math.min(this.totalWords, Math.max(w + 1, this.words.length * 2)));
      grown.set(this.words);
      this.words = grown;
    }
    this.words[w]! |= 1 << (offset & 31);
  }

  clear(offset: number): void {
    const w = offset >>> 5;
    if (w < this.words.length) this.words[w]! &= ~(1 << (offset & 31));
    if (w < this.cursor) this.cursor = w;
  }

  has(offset: number): boolean {
    const w = offset >>> 5;
    return w < this.words.length && (this.words[w]! & (1 << (offset & 31))) !== 0;
  }

  /** Lowest free offset, or undefined when the window is full. */
  firstFree(): number | undefined {
    const words = this.words;
    for (let w = this.cursor; w < this.totalWords; w++) {
      const word = w < words.length ? words[w]! : 0;
      if (word === 0xffffffff) continue;
      this.cursor = w;
      const offset = w * 32 + 31 - Math.clz32(~word & (word + 1));
      return offset < this.bits ? offset : undefined;
    }
    this.cursor = this.totalWords;
    return undefined;
  }
}

interface PoolState {
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

const DEFAULT_FAMILIES: readonly IpFamily[] = [4, 6];

export const serviceKey = (namespace: string, name: string) => `${namespace}/${name}`;

const portsOverlap = (a: ServicePort[], b: ServicePort[]) =>
  a.some((x) => b.some((y) => x.port === y.port && x.protocol === y.protocol));

/**
 * The allocation state and decisions, with no I/O: pools, namespaces and who holds which address.
 * The store wraps it in transactions; `decide` never mutates, `commit` applies a decision.
 */
export class AllocatorState {
  readonly pools = new Map<string, PoolState>();
  readonly namespaces = new Map<string, Namespace>();
  readonly services = new Map<string, ServiceState>();
  private readonly holders = new Map<string, Holder>();
  /** Held addresses per pool name, in the order they were taken. */
  private readonly heldIn = new Map<string, Set<string>>();
  private readonly bindings = new Map<string, { ofFamily: PoolState[]; bound: PoolState[] }>();
  private readonly window: number;

  /** `bitmapWindow`: addresses per pool tracked in a bitmap (default 2^24); beyond it, searched one by one. */
  constructor(options: { bitmapWindow?: number } = {}) {
    this.window = options.bitmapWindow ?? WINDOW;
  }

  setPool(pool: Pool): void {
    this.bindings.clear();
    const reserved = new Set(pool.allowReserved ? [] : reservedAddresses(pool.block));
    const size = blockSize(pool.block) - BigInt(reserved.size);
    const span = blockSize(pool.block);
    const ps: PoolState = {
      pool,
      reserved,
      size,
      sizeNumber: Number(size),
      firstNumber: Number(pool.block.first),
      lastNumber: Number(pool.block.last),
      used: 0,
      occupancy: new Occupancy(span < BigInt(this.window) ? Number(span) : this.window),
      hint: pool.block.first + BigInt(this.window),
    };
    for (const v of reserved) {
      if (v - pool.block.first < BigInt(ps.occupancy.bits)) ps.occupancy.set(Number(v - pool.block.first));
    }
    for (const ip of this.heldIn.get(pool.name) ?? []) {
      ps.used++;
      this.mark(ps, ip, true);
    }
    this.pools.set(pool.name, ps);
  }

  deletePool(name: string): void {
    this.bindings.clear();
    this.pools.delete(name);
  }

  setNamespace(ns: Namespace): void {
    this.bindings.clear();
    this.namespaces.set(ns.name, ns);
  }

  /** Who holds `ip` (canonical text), if anyone. */
  holderOf(ip: string): { pool: string; sharingKey?: string; services: string[] } | undefined {
    const h = this.holders.get(ip);
    return (
      h && {
        pool: h.pool,
        ...(h.sharingKey ? { sharingKey: h.sharingKey } : {}),
        services: h.keys(),
      }
    );
  }

  /** Services holding addresses of a pool. */
  servicesInPool(pool: string): ServiceState[] {
    return [...this.services.values()].filter((s) => s.addresses.some((a) => a.pool === pool));
  }

  usage(): PoolUsage[] {
    return [...this.pools.values()]
      .map(({ pool, size, used }) => ({
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
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  isFull(name: string): boolean {
    const p = this.pools.get(name);
    return !p || p.used >= p.sizeNumber;
  }

  /** Records a service state (allocated or pending), replacing the previous one. */
  commit(state: ServiceState): void {
    this.remove(state.key);
    this.services.set(state.key, state);
    for (const a of state.addresses) {
      let h = this.holders.get(a.ip);
      if (!h) {
        h = new Holder(a.pool, a.sharingKey || undefined);
        this.holders.set(a.ip, h);
        let held = this.heldIn.get(a.pool);
        if (!held) this.heldIn.set(a.pool, (held = new Set()));
        held.add(a.ip);
        const p = this.pools.get(a.pool);
        if (p) {
          p.used++;
          this.mark(p, a.ip, true);
        }
      }
      h.set(state.key, a.ports);
    }
  }

  /** Forgets a service and frees addresses nobody else holds. */
  remove(key: string): ServiceState | undefined {
    const old = this.services.get(key);
    if (!old) return undefined;
    this.services.delete(key);
    for (const a of old.addresses) {
      const h = this.holders.get(a.ip);
      if (!h) continue;
      h.delete(key);
      if (h.size > 0) continue;
      this.holders.delete(a.ip);
      this.heldIn.get(h.pool)?.delete(a.ip);
      const p = this.pools.get(h.pool);
      if (p) {
        p.used--;
        this.mark(p, a.ip, false);
      }
    }
    return old;
  }

  /** Marks an address of a pool taken or free in its bitmap (or, beyond it, moves the search hint). */
  private mark(p: PoolState, ip: string, taken: boolean): void {
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
   * Decides the addresses for a request, in OpenELB's order: requested pool, requested IP, pools bound
   * to the namespace (non-full first, then priority, 0 highest), then the default pool. A service that
   * already holds addresses keeps them (stability): pools changing never moves an address.
   */
  decide(req: AllocationRequest): ServiceState {
    const key = serviceKey(req.namespace, req.name);
    const existing = this.services.get(key);
    if (existing?.status === 'allocated') return existing;
    const policy = req.ipFamilyPolicy ?? 'SingleStack';
    let wanted4: string | undefined;
    let wanted6: string | undefined;
    for (const text of req.ips ?? []) {
      if (parseIp(text, 'ip').family === 4) wanted4 = text;
      else wanted6 = text;
    }
    let families = DEFAULT_FAMILIES;
    if (req.ipFamilies?.length) {
      families = [...new Set(req.ipFamilies.map((f): IpFamily => (f === 'IPv6' ? 6 : 4)))];
    }
    if (policy === 'SingleStack' && (wanted4 !== undefined || wanted6 !== undefined)) {
      // A single-stack request for a specific IP stays in that IP's family.
      families = families.filter((f) => (f === 4 ? wanted4 : wanted6) !== undefined);
    }
    const need = policy === 'RequireDualStack' ? 2 : 1;
    const limit = policy === 'SingleStack' ? 1 : 2;

    let got: Allocation[] | undefined;
    let conditions: PendingCondition[] | undefined;
    for (const family of families) {
      if ((got?.length ?? 0) >= limit) break;
      const r = this.pick(req, key, family, family === 4 ? wanted4 : wanted6, got?.length ?? 0);
      if ('ip' in r) (got ??= []).push(r);
      else (conditions ??= []).push(r);
    }
    if ((got?.length ?? 0) >= need) {
      return {
        key,
        namespace: req.namespace,
        name: req.name,
        request: req,
        status: 'allocated',
        addresses: got!,
      };
    }
    const condition = conditions?.find((c) => c.reason !== 'FamilyUnavailable') ??
      conditions?.[0] ?? {
        reason: 'FamilyUnavailable' as const,
        message: `${policy} needs both IPv4 and IPv6 addresses`,
      };
    if (policy === 'RequireDualStack' && got?.length && conditions?.length) {
      condition.message = `RequireDualStack: ${condition.message}`;
    }
    return {
      key,
      namespace: req.namespace,
      name: req.name,
      request: req,
      status: 'pending',
      addresses: [],
      condition,
    };
  }

  private pick(
    req: AllocationRequest,
    key: string,
    family: IpFamily,
    wantedIp: string | undefined,
    taken: number,
  ): Allocation | PendingCondition {
    const fam = `IPv${family}`;
    const ports = req.ports ?? [];
    if (wantedIp !== undefined) {
      const ip = parseIp(wantedIp, 'ip');
      const text = formatIp(ip);
      let ps: PoolState | undefined;
      for (const p of this.pools.values()) {
        if (blockContains(p.pool.block, ip)) {
          ps = p;
          break;
        }
      }
      if (!ps) return { reason: 'IpNotInPool', message: `${text} is not in any Eip` };
      if (req.pool && ps.pool.name !== req.pool) {
        return {
          reason: 'IpNotInPool',
          message: `${text} is in Eip/${ps.pool.name}, not the requested Eip/${req.pool}`,
        };
      }
      if (ps.pool.disable) return { reason: 'PoolDisabled', message: `Eip/${ps.pool.name} is disabled` };
      if (ps.reserved.has(ip.value)) {
        return {
          reason: 'IpReserved',
          message: `${text} is the network, broadcast or anycast address of Eip/${ps.pool.name}`,
        };
      }
      const h = this.holders.get(text);
      if (h && !this.canShare(h, key, req.sharingKey, ports)) {
        return {
          reason: 'IpInUse',
          message: `${text} is held by ${h.keys().join(', ')} without a matching sharing key and free ports`,
        };
      }
      return this.allocation(text, family, ps.pool.name, req.sharingKey, ports);
    }

    let candidates: PoolState[];
    let byDefault = false;
    if (req.pool) {
      const ps = this.pools.get(req.pool);
      if (!ps) return { reason: 'PoolNotFound', message: `Eip/${req.pool} does not exist` };
      if (ps.pool.block.family !== family)
        return { reason: 'FamilyUnavailable', message: `Eip/${req.pool} has no ${fam} addresses` };
      if (ps.pool.disable) return { reason: 'PoolDisabled', message: `Eip/${req.pool} is disabled` };
      candidates = [ps];
    } else {
      const { ofFamily, bound } = this.poolsFor(req.namespace, family);
      if (bound.length) {
        // Priority order (0 highest), then name; full pools yield nothing below, so non-full come first.
        candidates = bound;
      } else {
        const def = ofFamily.find((p) => p.pool.isDefault);
        if (!def) {
          return {
            reason: taken ? 'FamilyUnavailable' : 'NoPoolForNamespace',
            message: `no ${fam} Eip is bound to namespace ${req.namespace} and there is no default ${fam} Eip`,
          };
        }
        candidates = [def];
        byDefault = true;
      }
    }
    if (req.sharingKey) {
      for (const ps of candidates) {
        for (const ip of this.heldIn.get(ps.pool.name) ?? []) {
          const h = this.holders.get(ip)!;
          if (this.canShare(h, key, req.sharingKey, ports)) {
            return this.allocation(ip, family, ps.pool.name, req.sharingKey, ports);
          }
        }
      }
    }
    for (const ps of candidates) {
      const v = this.firstFree(ps);
      if (v !== undefined)
        return this.allocation(
          family === 4 ? v4Text(Number(v)) : formatIp({ family, value: v }),
          family,
          ps.pool.name,
          req.sharingKey,
          ports,
        );
    }
    // Nothing free: say why, naming what was tried.
    if (req.pool) return { reason: 'PoolExhausted', message: `Eip/${req.pool} has no free address` };
    if (byDefault)
      return { reason: 'PoolExhausted', message: `the default Eip/${candidates[0]!.pool.name} is full` };
    return {
      reason: 'PoolExhausted',
      message: `every ${fam} Eip bound to namespace ${req.namespace} is full (${candidates.map((p) => p.pool.name).join(', ')})`,
    };
  }

  /** Enabled pools of a family, and those bound to a namespace in priority order; cached until pools or namespaces change. */
  private poolsFor(namespace: string, family: IpFamily): { ofFamily: PoolState[]; bound: PoolState[] } {
    const key = family === 4 ? namespace : `6 ${namespace}`;
    let hit = this.bindings.get(key);
    if (!hit) {
      const ns = this.namespaces.get(namespace) ?? { name: namespace, labels: {} };
      const ofFamily = [...this.pools.values()].filter(
        (p) => p.pool.block.family === family && !p.pool.disable,
      );
      const bound = ofFamily
        .filter((p) => poolServesNamespace(p.pool, ns))
        .sort((a, b) => a.pool.priority - b.pool.priority || a.pool.name.localeCompare(b.pool.name));
      hit = { ofFamily, bound };
      this.bindings.set(key, hit);
    }
    return hit;
  }

  private allocation(
    ip: string,
    family: IpFamily,
    pool: string,
    sharingKey: string | undefined,
    ports: ServicePort[],
  ): Allocation {
    return sharingKey ? { ip, family, pool, sharingKey, ports } : { ip, family, pool, ports };
  }

  private canShare(h: Holder, key: string, sharingKey: string | undefined, ports: ServicePort[]): boolean {
    if (!sharingKey || h.sharingKey !== sharingKey) return false;
    for (const [other, otherPorts] of h.entries())
      if (other !== key && portsOverlap(ports, otherPorts)) return false;
    return true;
  }

  /** Lowest free address of a pool: from the bitmap, then (huge pools only) beyond it. */
  private firstFree(ps: PoolState): bigint | undefined {
    if (ps.used >= ps.sizeNumber) return undefined;
    const { family, first, last } = ps.pool.block;
    const offset = ps.occupancy.firstFree();
    if (offset !== undefined) return first + BigInt(offset);
    for (let v = ps.hint; v <= last; v++) {
      if (!ps.reserved.has(v) && !this.holders.has(formatIp({ family, value: v }))) {
        ps.hint = v;
        return v;
      }
    }
    return undefined;
  }
}
