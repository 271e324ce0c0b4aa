import {
  serviceKey,
  type Allocation,
  type AllocationRequest,
  type IpFamilyPolicy,
  type PendingCondition,
  type ServicePort,
  type ServiceState,
} from './allocation.js';
import { Holdings } from './allocator/holdings.js';
import { firstFreeAddress, type PoolState } from './allocator/pool-state.js';
import { blockContains, formatIp, parseIp, type IpFamily } from './ip.js';

const DEFAULT_FAMILIES: readonly IpFamily[] = [4, 6];

/**
 * The families to try, in order: `ipFamilies`, else IPv4 then IPv6. A single-stack request for a
 * specific IP stays in that IP's family.
 */
function familyOrder(
  req: AllocationRequest,
  policy: IpFamilyPolicy,
  wanted4: string | undefined,
  wanted6: string | undefined,
): readonly IpFamily[] {
  let families = DEFAULT_FAMILIES;
  if (req.ipFamilies?.length) {
    families = [...new Set(req.ipFamilies.map((f): IpFamily => (f === 'IPv6' ? 6 : 4)))];
  }
  if (policy === 'SingleStack' && (wanted4 !== undefined || wanted6 !== undefined)) {
    families = families.filter((f) => (f === 4 ? wanted4 : wanted6) !== undefined);
  }
  return families;
}

/**
 * Why a service stays pending: the first failure that is more than a missing family, else the
 * first failure, else the policy's need for both families.
 */
function pendingCondition(
  policy: IpFamilyPolicy,
  got: Allocation[] | undefined,
  conditions: PendingCondition[] | undefined,
): PendingCondition {
  const condition = conditions?.find((c) => c.reason !== 'FamilyUnavailable') ??
    conditions?.[0] ?? {
      reason: 'FamilyUnavailable' as const,
      message: `${policy} needs both IPv4 and IPv6 addresses`,
    };
  if (policy === 'RequireDualStack' && got?.length && conditions?.length) {
    condition.message = `RequireDualStack: ${condition.message}`;
  }
  return condition;
}

function allocation(
  ip: string,
  family: IpFamily,
  pool: string,
  sharingKey: string | undefined,
  ports: ServicePort[],
): Allocation {
  return sharingKey ? { ip, family, pool, sharingKey, ports } : { ip, family, pool, ports };
}

/**
 * The allocation state and decisions, with no I/O: pools, namespaces and who holds which address.
 * The store wraps it in transactions; `decide` never mutates, `commit` applies a decision.
 */
export class AllocatorState extends Holdings {
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
    const need = policy === 'RequireDualStack' ? 2 : 1;
    const limit = policy === 'SingleStack' ? 1 : 2;
    let got: Allocation[] | undefined;
    let conditions: PendingCondition[] | undefined;
    for (const family of familyOrder(req, policy, wanted4, wanted6)) {
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
    return {
      key,
      namespace: req.namespace,
      name: req.name,
      request: req,
      status: 'pending',
      addresses: [],
      condition: pendingCondition(policy, got, conditions),
    };
  }

  /**
   * One family's address for a request: the requested IP, else an address shared under the
   * request's sharing key, else the lowest free one of the first candidate pool that has one.
   * `taken`: addresses the request already got in other families.
   */
  private pick(
    req: AllocationRequest,
    key: string,
    family: IpFamily,
    wantedIp: string | undefined,
    taken: number,
  ): Allocation | PendingCondition {
    const ports = req.ports ?? [];
    if (wantedIp !== undefined) return this.requestedAddress(req, key, family, wantedIp, ports);
    const candidates = this.candidatePools(req, family, taken);
    if (!Array.isArray(candidates)) return candidates;
    return (
      (req.sharingKey ? this.sharedAddress(req, key, family, candidates, ports) : undefined) ??
      this.freeAddress(req, family, candidates, ports) ??
      this.exhausted(req, family, candidates)
    );
  }

  /**
   * A specific address asked for: it must be in a pool (the requested one, when one is named) that
   * is enabled, must not be reserved, and must be free or shareable.
   */
  private requestedAddress(
    req: AllocationRequest,
    key: string,
    family: IpFamily,
    wantedIp: string,
    ports: ServicePort[],
  ): Allocation | PendingCondition {
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
    if (h && !h.canShare(key, req.sharingKey, ports)) {
      return {
        reason: 'IpInUse',
        message: `${text} is held by ${h.keys().join(', ')} without a matching sharing key and free ports`,
      };
    }
    return allocation(text, family, ps.pool.name, req.sharingKey, ports);
  }

  /**
   * The pools a request may take a `family` address from, in OpenELB's order: the requested pool
   * alone; else the enabled pools bound to the namespace (priority 0 first, then name; full ones
   * yield nothing, so non-full come first); else the default pool of the family.
   */
  private candidatePools(
    req: AllocationRequest,
    family: IpFamily,
    taken: number,
  ): PoolState[] | PendingCondition {
    if (req.pool) {
      const ps = this.pools.get(req.pool);
      if (!ps) return { reason: 'PoolNotFound', message: `Eip/${req.pool} does not exist` };
      if (ps.pool.block.family !== family)
        return { reason: 'FamilyUnavailable', message: `Eip/${req.pool} has no IPv${family} addresses` };
      if (ps.pool.disable) return { reason: 'PoolDisabled', message: `Eip/${req.pool} is disabled` };
      return [ps];
    }
    const { ofFamily, bound } = this.poolsFor(req.namespace, family);
    if (bound.length) return bound;
    const def = ofFamily.find((p) => p.pool.isDefault);
    if (def) return [def];
    const fam = `IPv${family}`;
    return {
      reason: taken ? 'FamilyUnavailable' : 'NoPoolForNamespace',
      message: `no ${fam} Eip is bound to namespace ${req.namespace} and there is no default ${fam} Eip`,
    };
  }

  /** An address of the candidates already held under the request's sharing key, with no port in common. */
  private sharedAddress(
    req: AllocationRequest,
    key: string,
    family: IpFamily,
    candidates: PoolState[],
    ports: ServicePort[],
  ): Allocation | undefined {
    for (const ps of candidates) {
      for (const ip of this.heldIn.get(ps.pool.name) ?? []) {
        if (this.holders.get(ip)!.canShare(key, req.sharingKey, ports)) {
          return allocation(ip, family, ps.pool.name, req.sharingKey, ports);
        }
      }
    }
    return undefined;
  }

  /** The lowest free address of the first candidate that has one. */
  private freeAddress(
    req: AllocationRequest,
    family: IpFamily,
    candidates: PoolState[],
    ports: ServicePort[],
  ): Allocation | undefined {
    for (const ps of candidates) {
      const ip = firstFreeAddress(ps, this.holders);
      if (ip !== undefined) return allocation(ip, family, ps.pool.name, req.sharingKey, ports);
    }
    return undefined;
  }

  /** Nothing free: says why, naming what was tried. */
  private exhausted(req: AllocationRequest, family: IpFamily, candidates: PoolState[]): PendingCondition {
    if (req.pool) return { reason: 'PoolExhausted', message: `Eip/${req.pool} has no free address` };
    if (!this.poolsFor(req.namespace, family).bound.length)
      return { reason: 'PoolExhausted', message: `the default Eip/${candidates[0]!.pool.name} is full` };
    return {
      reason: 'PoolExhausted',
      message: `every IPv${family} Eip bound to namespace ${req.namespace} is full (${candidates.map((p) => p.pool.name).join(', ')})`,
    };
  }
}
