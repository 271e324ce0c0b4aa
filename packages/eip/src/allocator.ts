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

interface Holder {
  pool: string;
  sharingKey?: string;
  services: Map<string, ServicePort[]>;
}

interface PoolState {
  pool: Pool;
  reserved: Set<bigint>;
  size: bigint;
  used: number;
  /** Lowest address that may be free. */
  hint: bigint;
}

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
  private readonly bindings = new Map<string, { ofFamily: PoolState[]; bound: PoolState[] }>();

  setPool(pool: Pool): void {
    this.bindings.clear();
    const reserved = new Set(pool.allowReserved ? [] : reservedAddresses(pool.block));
    const used = [...this.holders.values()].filter((h) => h.pool === pool.name).length;
    this.pools.set(pool.name, {
      pool,
      reserved,
      size: blockSize(pool.block) - BigInt(reserved.size),
      used,
      hint: pool.block.first,
    });
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
        services: [...h.services.keys()],
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
    return !p || BigInt(p.used) >= p.size;
  }

  /** Records a service state (allocated or pending), replacing the previous one. */
  commit(state: ServiceState): void {
    this.remove(state.key);
    this.services.set(state.key, state);
    for (const a of state.addresses) {
      let h = this.holders.get(a.ip);
      if (!h) {
        h = { pool: a.pool, ...(a.sharingKey ? { sharingKey: a.sharingKey } : {}), services: new Map() };
        this.holders.set(a.ip, h);
        const p = this.pools.get(a.pool);
        if (p) p.used++;
      }
      h.services.set(state.key, a.ports);
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
      h.services.delete(key);
      if (h.services.size > 0) continue;
      this.holders.delete(a.ip);
      const p = this.pools.get(a.pool);
      if (p) {
        p.used--;
        const v = parseIp(a.ip).value;
        if (v < p.hint) p.hint = v;
      }
    }
    return old;
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
    const base = { key, namespace: req.namespace, name: req.name, request: req };
    const policy = req.ipFamilyPolicy ?? 'SingleStack';
    const order: IpFamily[] = (req.ipFamilies?.length ? req.ipFamilies : ['IPv4', 'IPv6']).map((f) =>
      f === 'IPv6' ? 6 : 4,
    );
    const wanted = new Map<IpFamily, string>();
    for (const text of req.ips ?? []) wanted.set(parseIp(text, 'ip').family, text);
    if (policy === 'SingleStack' && wanted.size === 1) order.sort((a) => (wanted.has(a) ? -1 : 1));
    const families = [...new Set(order)];
    const need = policy === 'RequireDualStack' ? 2 : 1;
    const limit = policy === 'SingleStack' ? 1 : 2;

    const got: Allocation[] = [];
    const conditions: PendingCondition[] = [];
    for (const family of families) {
      if (got.length >= limit) break;
      // A single-stack request for a specific IP stays in that IP's family.
      if (policy === 'SingleStack' && wanted.size > 0 && !wanted.has(family)) continue;
      const r = this.pick(req, key, family, wanted.get(family), got);
      if ('ip' in r) got.push(r);
      else conditions.push(r);
    }
    if (got.length >= need) return { ...base, status: 'allocated', addresses: got };
    const condition = conditions.find((c) => c.reason !== 'FamilyUnavailable') ??
      conditions[0] ?? {
        reason: 'FamilyUnavailable' as const,
        message: `${policy} needs both IPv4 and IPv6 addresses`,
      };
    if (policy === 'RequireDualStack' && got.length > 0 && conditions.length) {
      condition.message = `RequireDualStack: ${condition.message}`;
    }
    return { ...base, status: 'pending', addresses: [], condition };
  }

  private pick(
    req: AllocationRequest,
    key: string,
    family: IpFamily,
    wantedIp: string | undefined,
    taken: Allocation[],
  ): Allocation | PendingCondition {
    const fam = `IPv${family}`;
    const ports = req.ports ?? [];
    if (wantedIp !== undefined) {
      const ip = parseIp(wantedIp, 'ip');
      const text = formatIp(ip);
      const ps = [...this.pools.values()].find((p) => blockContains(p.pool.block, ip));
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
          message: `${text} is held by ${[...h.services.keys()].join(', ')} without a matching sharing key and free ports`,
        };
      }
      return this.allocation(text, family, ps.pool.name, req.sharingKey, ports);
    }

    let candidates: PoolState[];
    let why: PendingCondition;
    if (req.pool) {
      const ps = this.pools.get(req.pool);
      if (!ps) return { reason: 'PoolNotFound', message: `Eip/${req.pool} does not exist` };
      if (ps.pool.block.family !== family)
        return { reason: 'FamilyUnavailable', message: `Eip/${req.pool} has no ${fam} addresses` };
      if (ps.pool.disable) return { reason: 'PoolDisabled', message: `Eip/${req.pool} is disabled` };
      candidates = [ps];
      why = { reason: 'PoolExhausted', message: `Eip/${req.pool} has no free address` };
    } else {
      const { ofFamily, bound } = this.poolsFor(req.namespace, family);
      if (bound.length) {
        // Priority order (0 highest), then name; full pools yield nothing below, so non-full come first.
        candidates = bound;
        why = {
          reason: 'PoolExhausted',
          message: `every ${fam} Eip bound to namespace ${req.namespace} is full (${bound.map((p) => p.pool.name).join(', ')})`,
        };
      } else {
        const def = ofFamily.find((p) => p.pool.isDefault);
        if (!def) {
          return {
            reason: taken.length ? 'FamilyUnavailable' : 'NoPoolForNamespace',
            message: `no ${fam} Eip is bound to namespace ${req.namespace} and there is no default ${fam} Eip`,
          };
        }
        candidates = [def];
        why = { reason: 'PoolExhausted', message: `the default Eip/${def.pool.name} is full` };
      }
    }
    if (req.sharingKey) {
      for (const ps of candidates) {
        for (const [ip, h] of this.holders) {
          if (h.pool === ps.pool.name && this.canShare(h, key, req.sharingKey, ports)) {
            return this.allocation(ip, family, ps.pool.name, req.sharingKey, ports);
          }
        }
      }
    }
    for (const ps of candidates) {
      const v = this.firstFree(ps);
      if (v !== undefined)
        return this.allocation(formatIp({ family, value: v }), family, ps.pool.name, req.sharingKey, ports);
    }
    return why;
  }

  /** Enabled pools of a family, and those bound to a namespace in priority order; cached until pools or namespaces change. */
  private poolsFor(namespace: string, family: IpFamily): { ofFamily: PoolState[]; bound: PoolState[] } {
    const key = `${family} ${namespace}`;
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
    return { ip, family, pool, ...(sharingKey ? { sharingKey } : {}), ports };
  }

  private canShare(h: Holder, key: string, sharingKey: string | undefined, ports: ServicePort[]): boolean {
    if (!sharingKey || h.sharingKey !== sharingKey) return false;
    for (const [other, otherPorts] of h.services)
      if (other !== key && portsOverlap(ports, otherPorts)) return false;
    return true;
  }

  private firstFree(ps: PoolState): bigint | undefined {
    if (BigInt(ps.used) >= ps.size) return undefined;
    const { family, first, last } = ps.pool.block;
    const start = ps.hint < first || ps.hint > last ? first : ps.hint;
    const scan = (from: bigint, to: bigint) => {
      for (let v = from; v <= to; v++) {
        if (!ps.reserved.has(v) && !this.holders.has(formatIp({ family, value: v }))) return v;
      }
      return undefined;
    };
    const v = scan(start, last) ?? (start > first ? scan(first, start - 1n) : undefined);
    if (v !== undefined) ps.hint = v;
    return v;
  }
}
