import type { PoolUsage, ServiceState } from '../allocation.js';
import type { IpFamily } from '../ip.js';
import { poolServesNamespace, type Namespace, type Pool } from '../spec.js';
import { Holder } from './holder.js';
import { WINDOW } from './occupancy.js';
import { createPoolState, markAddress, poolUsage, type PoolState } from './pool-state.js';

/** Enabled pools of a family, and those of them bound to a namespace in priority order. */
export interface PoolsForNamespace {
  ofFamily: PoolState[];
  bound: PoolState[];
}

/**
 * What the allocator knows, with no I/O and no decisions: pools, namespaces, services and who
 * holds which address. `AllocatorState` decides on top of it.
 */
export class Holdings {
  readonly pools = new Map<string, PoolState>();
  readonly namespaces = new Map<string, Namespace>();
  readonly services = new Map<string, ServiceState>();
  protected readonly holders = new Map<string, Holder>();
  /** Held addresses per pool name, in the order they were taken. */
  protected readonly heldIn = new Map<string, Set<string>>();
  private readonly bindings = new Map<string, PoolsForNamespace>();
  private readonly window: number;

  /** `bitmapWindow`: addresses per pool tracked in a bitmap (default 2^24); beyond it, searched one by one. */
  constructor(options: { bitmapWindow?: number } = {}) {
    this.window = options.bitmapWindow ?? WINDOW;
  }

  setPool(pool: Pool): void {
    this.bindings.clear();
    const ps = createPoolState(pool, this.window);
    for (const ip of this.heldIn.get(pool.name) ?? []) {
      ps.used++;
      markAddress(ps, ip, true);
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
    return [...this.pools.values()].map(poolUsage).sort((a, b) => a.name.localeCompare(b.name));
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
          markAddress(p, a.ip, true);
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
        markAddress(p, a.ip, false);
      }
    }
    return old;
  }

  /** Enabled pools of a family, and those bound to a namespace in priority order; cached until pools or namespaces change. */
  protected poolsFor(namespace: string, family: IpFamily): PoolsForNamespace {
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
}
