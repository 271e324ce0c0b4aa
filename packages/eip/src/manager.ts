import { createLogger, type Logger } from '@sprout/observe';
import { createMetrics, type Registry } from '@sprout/observe/metrics';
import { serviceKey, type AllocationRequest, type ServiceState } from './allocation.js';
import { EipError } from './errors.js';
import { poolAction, refuseDroppedAddresses, unmatchedSelector, type ApplyResult } from './manager/apply.js';
import { registerEipMetrics, type EipCounters } from './manager/metrics.js';
import { validateRequest } from './manager/request.js';
import { SyncedState } from './manager/synced-state.js';
import { checkPools, parseEipYaml, type EipDocuments } from './spec.js';

export interface EipManagerOptions {
  /** Folder of the embedded store (`eip.db`); created when missing. */
  dataDir: string;
  logger?: Logger;
  /** Registry to register the pool gauges and counters on; a new one when absent. */
  metrics?: Registry;
  /** Journal entries beyond twice the live services before the journal is compacted; default 10,000. */
  journalSlack?: number;
  /**
   * `process` (default): a returned allocation survives the process crashing or being killed; a
   * power loss may lose the last ones (WAL, `synchronous=NORMAL`). `power`: it survives power loss
   * too (the WAL is fsynced at each commit, one fsync per transaction). See the package README.
   */
  durability?: 'process' | 'power';
}

/**
 * The EIP control plane in one object: pools, namespaces, BGP config and allocations on the
 * embedded store. Safe to run in several processes against the same data dir at once.
 *
 * Events: `change` (addresses held changed), `exhausted` ({ pool }), `pending` (ServiceState).
 *
 * @example
 * const eip = createEipManager({ dataDir: '.sprout' });
 * eip.apply(fs.readFileSync('pools.yaml', 'utf8'));
 * const svc = eip.allocate({ namespace: 'default', name: 'web' });
 * eip.close();
 */
export class EipManager extends SyncedState {
  readonly metrics: Registry;
  private readonly log: Logger;
  private queue: {
    req: AllocationRequest;
    resolve: (s: ServiceState) => void;
    reject: (e: Error) => void;
  }[] = [];
  private readonly counters: EipCounters;

  constructor(options: EipManagerOptions) {
    super(options);
    this.log = options.logger ?? createLogger({ name: 'eip' });
    this.metrics = options.metrics ?? createMetrics();
    this.counters = registerEipMetrics(this.metrics, () => this.usage());
  }

  /**
   * Applies Eip, BgpConf, BgpPeer and Namespace documents (YAML text or parsed). Pools are created
   * or updated, never deleted here; an update that would drop a held address is refused. Pending
   * services are retried afterwards.
   */
  apply(input: string | EipDocuments): ApplyResult {
    const docs = typeof input === 'string' ? parseEipYaml(input) : input;
    const result: ApplyResult = { pools: [], namespaces: [], bgp: [], warnings: [], allocated: [] };
    this.write(() => {
      const merged = new Map([...this.state.pools].map(([k, v]) => [k, v.pool]));
      for (const p of docs.pools) merged.set(p.name, p);
      checkPools([...merged.values()]);
      refuseDroppedAddresses(this.state, docs.pools);
      for (const ns of docs.namespaces) {
        this.store.saveNamespace(ns.name, ns.labels);
        this.state.setNamespace(ns);
        result.namespaces.push(ns.name);
      }
      for (const p of docs.pools) {
        const action = poolAction(this.state.pools.get(p.name)?.pool, p);
        if (action !== 'unchanged') {
          this.store.savePool(p.name, p.document);
          this.state.setPool(p);
        }
        result.pools.push({ name: p.name, action });
        const warning = unmatchedSelector(this.state, p);
        if (warning) result.warnings.push(warning);
      }
      if (docs.bgpConf) {
        this.store.saveBgp('BgpConf', 'default', docs.bgpConf.document);
        this.bgpConf = docs.bgpConf;
        result.bgp.push('BgpConf/default');
      }
      for (const peer of docs.bgpPeers) {
        this.store.saveBgp('BgpPeer', peer.name, peer.document);
        this.bgpPeers.set(peer.name, peer);
        result.bgp.push(`BgpPeer/${peer.name}`);
      }
      this.configChanged();
      for (const s of [...this.state.services.values()]) {
        if (s.status !== 'pending') continue;
        const next = this.state.decide(s.request);
        if (next.status === 'allocated') {
          this.commitService(next);
          result.allocated.push(s.key);
        }
      }
    });
    for (const w of result.warnings) this.log.warn(w);
    if (result.allocated.length) this.emit('change');
    return result;
  }

  /**
   * Gives a service its address(es). Idempotent: a service that holds addresses keeps them. When
   * nothing fits, the service is stored as pending with a condition saying why (and retried on the
   * next apply); the returned state then has `status: 'pending'`.
   */
  allocate(request: AllocationRequest): ServiceState {
    return this.allocateMany([request])[0]!;
  }

  /**
   * Like `allocate`, but requests made in the same turn of the event loop share one transaction
   * (group commit): each promise settles once its allocation is on disk. The way for servers that
   * allocate for many concurrent callers.
   */
  allocateAsync(request: AllocationRequest): Promise<ServiceState> {
    let req: AllocationRequest;
    try {
      req = validateRequest(request);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      if (this.queue.length === 1) setImmediate(() => this.flushQueue());
    });
  }

  private flushQueue(): void {
    const batch = this.queue.splice(0);
    if (!batch.length) return;
    try {
      const out = this.allocateValidated(batch.map((b) => b.req));
      batch.forEach((b, i) => b.resolve(out[i]!));
    } catch (err) {
      for (const b of batch) b.reject(err as Error);
    }
  }

  /**
   * Allocates for many services in one transaction (one commit for all): much faster for bursts,
   * all-or-nothing on a store error. Each result is as `allocate` would give it.
   */
  allocateMany(requests: AllocationRequest[]): ServiceState[] {
    return this.allocateValidated(requests.map(validateRequest));
  }

  private allocateValidated(reqs: AllocationRequest[]): ServiceState[] {
    const exhausted: string[] = [];
    const out = this.write(() => reqs.map((req) => this.allocateInTx(req, exhausted)));
    for (const pool of exhausted) {
      this.counters.exhausted.inc({ pool });
      this.log.warn({ pool }, 'Eip exhausted');
      this.emit('exhausted', { pool });
    }
    let allocated = 0;
    for (const s of out) {
      if (s.status === 'pending') this.emit('pending', s);
      else allocated++;
    }
    if (allocated) this.counters.allocations.inc({ result: 'allocated' }, allocated);
    if (allocated < out.length) this.counters.allocations.inc({ result: 'pending' }, out.length - allocated);
    if (allocated) this.emit('change');
    return out;
  }

  private allocateInTx(req: AllocationRequest, exhausted: string[]): ServiceState {
    const next = this.state.decide(req);
    // decide() hands back the stored state itself when the service already holds its addresses.
    if (this.state.services.get(next.key) === next) return next;
    // Pools that were not full before this commit (an address per family, so no two alike).
    const open: string[] = [];
    for (const a of next.addresses) if (!this.state.isFull(a.pool)) open.push(a.pool);
    this.commitService(next);
    if (next.status === 'pending') {
      this.store.addEvent(
        'pending',
        undefined,
        `${next.key}: ${next.condition!.reason}: ${next.condition!.message}`,
      );
    }
    for (const pool of open) {
      if (this.state.isFull(pool)) {
        this.store.addEvent('exhausted', pool, `Eip/${pool} has no free address left`);
        exhausted.push(pool);
      }
    }
    return next;
  }

  /** Releases a service's addresses and forgets it. */
  release(namespace: string, name: string): ServiceState {
    const key = serviceKey(namespace, name);
    const old = this.write(() => {
      const s = this.state.services.get(key);
      if (!s)
        throw new EipError('SPROUT_ERR_EIP_NOT_ALLOCATED', `${key} holds no address and is not pending`);
      this.releaseService(key);
      return s;
    });
    this.emit('change');
    return old;
  }

  /**
   * Deletes a pool. Refused while services hold its addresses unless `drain` is set, which moves
   * those services to other pools (or to pending).
   */
  deletePool(poolName: string, options: { drain?: boolean } = {}): { drained: string[] } {
    const drained: string[] = [];
    this.write(() => {
      if (!this.state.pools.has(poolName))
        throw new EipError('SPROUT_ERR_EIP_POOL_NOT_FOUND', `Eip/${poolName} does not exist`);
      const users = this.state.servicesInPool(poolName);
      if (users.length && !options.drain) {
        throw new EipError(
          'SPROUT_ERR_EIP_POOL_IN_USE',
          `Eip/${poolName} has ${users.length} service(s) holding addresses (${users
            .slice(0, 3)
            .map((s) => s.key)
            .join(', ')}); drain it first`,
        );
      }
      for (const s of users) this.state.remove(s.key);
      this.state.deletePool(poolName);
      this.store.deletePool(poolName);
      this.configChanged();
      for (const s of users) {
        const next = this.state.decide(s.request);
        this.commitService(next);
        drained.push(s.key);
      }
      if (users.length)
        this.store.addEvent('drained', poolName, `Eip/${poolName} drained: ${drained.join(', ')}`);
    });
    this.emit('change');
    return { drained };
  }

  close(): void {
    const waiting = this.queue.splice(0);
    for (const w of waiting) w.reject(new EipError('SPROUT_ERR_EIP_STORE', 'the EIP manager was closed'));
    this.store.close();
    this.removeAllListeners();
  }
}

/** Creates the EIP manager over the embedded store in `dataDir`. */
export function createEipManager(options: EipManagerOptions): EipManager {
  return new EipManager(options);
}
