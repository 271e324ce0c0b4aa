import { EventEmitter } from 'node:events';
import { createLogger, type Logger } from '@sprout/observe';
import { Counter, Gauge, createMetrics, type Registry } from '@sprout/observe/metrics';
import { z } from 'zod';
import {
  AllocatorState,
  serviceKey,
  type Allocation,
  type AllocationRequest,
  type PoolUsage,
  type ServiceState,
} from './allocator.js';
import { EipError } from './errors.js';
import { blockContains, canonicalIp, parseIp } from './ip.js';
import {
  checkPools,
  parseBgpConf,
  parseBgpPeer,
  parseEip,
  parseEipYaml,
  type BgpConf,
  type BgpPeer,
  type EipDocuments,
  type Pool,
} from './spec.js';
import { EipStore, type JournalEntry, type StoredEvent } from './store.js';

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

export interface ApplyResult {
  pools: { name: string; action: 'created' | 'updated' | 'unchanged' }[];
  namespaces: string[];
  bgp: string[];
  /** Non-fatal findings, e.g. a namespaceSelector matching no known namespace. */
  warnings: string[];
  /** Services that were pending and got addresses because of this apply. */
  allocated: string[];
}

/** A held address with its pool and holders, as the announcers see it. */
export interface HeldAddress {
  ip: string;
  family: 4 | 6;
  pool: Pool;
  services: string[];
}

const name = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS label (a-z, 0-9, - and .)');
const requestSchema = z.strictObject({
  namespace: name,
  name,
  pool: name.optional(),
  ips: z.array(z.string()).max(2).optional(),
  sharingKey: z.string().min(1).max(253).optional(),
  ports: z
    .array(
      z.strictObject({ port: z.number().int().min(1).max(65535), protocol: z.enum(['TCP', 'UDP', 'SCTP']) }),
    )
    .optional(),
  ipFamilyPolicy: z.enum(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional(),
  ipFamilies: z
    .array(z.enum(['IPv4', 'IPv6']))
    .max(2)
    .optional(),
});

function validateRequest(request: AllocationRequest): AllocationRequest {
  const r = requestSchema.safeParse(request);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new EipError('SPROUT_ERR_EIP_BAD_REQUEST', i.message, i.path.join('.') || 'request');
  }
  const req = r.data as AllocationRequest;
  if (req.ips) req.ips = req.ips.map((ip) => canonicalIp(ip, 'ip'));
  if (req.ips && new Set(req.ips.map((ip) => parseIp(ip).family)).size !== req.ips.length) {
    throw new EipError('SPROUT_ERR_EIP_BAD_REQUEST', 'at most one address per family', 'ips');
  }
  return req;
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
export class EipManager extends EventEmitter {
  readonly metrics: Registry;
  private readonly store: EipStore;
  private readonly log: Logger;
  private state = new AllocatorState();
  private bgpConf: BgpConf | undefined;
  private bgpPeers = new Map<string, BgpPeer>();
  private version = -1;
  private gen = -1;
  /** Last journal entry applied to `state`. */
  private seq = 0;
  private journalRows = 0;
  private queue: {
    req: AllocationRequest;
    resolve: (s: ServiceState) => void;
    reject: (e: Error) => void;
  }[] = [];
  private readonly journalSlack: number;
  private readonly counters;

  constructor(options: EipManagerOptions) {
    super();
    this.store = new EipStore(options.dataDir, { durability: options.durability });
    this.journalSlack = options.journalSlack ?? 10_000;
    this.log = options.logger ?? createLogger({ name: 'eip' });
    this.metrics = options.metrics ?? createMetrics();
    const usage = () => this.usage();
    const gauge = (metric: string, help: string, pick: (u: PoolUsage) => number) =>
      new Gauge({
        name: metric,
        help,
        labelNames: ['pool'],
        registers: [this.metrics],
        collect() {
          this.reset();
          for (const u of usage()) this.set({ pool: u.name }, pick(u));
        },
      });
    gauge('sprout_eip_pool_size', 'Addresses an Eip can hand out', (u) => u.size);
    gauge('sprout_eip_pool_used', 'Addresses of an Eip held by services', (u) => u.used);
    gauge('sprout_eip_pool_free', 'Addresses of an Eip still free', (u) => u.free);
    this.counters = {
      allocations: new Counter({
        name: 'sprout_eip_allocations_total',
        help: 'Allocation requests by result',
        labelNames: ['result'],
        registers: [this.metrics],
      }),
      exhausted: new Counter({
        name: 'sprout_eip_pool_exhausted_total',
        help: 'Times an Eip ran out of addresses',
        labelNames: ['pool'],
        registers: [this.metrics],
      }),
    };
    this.store.read(() => this.sync());
  }

  /** Catches up with disk when another process committed since the last look. Returns true if it did. */
  private sync(): boolean {
    const v = this.store.dataVersion();
    if (v === this.version) return false;
    const gen = this.store.configGen();
    if (gen !== this.gen) this.reload(gen);
    else for (const e of this.store.journalSince(this.seq)) this.replay(e);
    this.version = v;
    return true;
  }

  private replay(e: JournalEntry): void {
    if (e.state) this.state.commit(e.state);
    else this.state.remove(e.key);
    this.seq = e.seq;
    this.journalRows++;
  }

  /** Everything from disk: configuration, then the allocation journal. */
  private reload(gen: number): void {
    const data = this.store.loadConfig();
    this.state = new AllocatorState();
    this.seq = 0;
    this.journalRows = 0;
    for (const ns of data.namespaces) this.state.setNamespace(ns);
    for (const doc of data.pools) this.state.setPool(parseEip(doc, 'stored Eip'));
    for (const e of this.store.journalSince(0)) this.replay(e);
    this.bgpConf = undefined;
    this.bgpPeers.clear();
    for (const b of data.bgp) {
      if (b.kind === 'BgpConf') this.bgpConf = parseBgpConf(b.doc, 'stored BgpConf');
      else {
        const p = parseBgpPeer(b.doc, 'stored BgpPeer');
        this.bgpPeers.set(p.name, p);
      }
    }
    this.gen = gen;
  }

  /** After a configuration change in this process: others must reload, we are current. */
  private configChanged(): void {
    this.store.bumpConfigGen();
    this.gen = this.store.configGen();
  }

  /** Picks up changes other processes made; emits `change` when there were any. */
  refresh(): boolean {
    if (this.store.dataVersion() === this.version) return false;
    const changed = this.store.read(() => this.sync());
    if (changed) this.emit('change');
    return changed;
  }

  private write<T>(fn: () => T): T {
    try {
      return this.store.write(() => {
        this.sync();
        const out = fn();
        if (this.journalRows > 2 * this.state.services.size + this.journalSlack) {
          this.store.compact();
          this.gen = this.store.configGen();
          this.journalRows = this.store.journalSize();
        }
        return out;
      });
    } catch (err) {
      // Memory may be ahead of the rolled-back disk: reload everything next time.
      this.version = -1;
      this.gen = -1;
      if (err instanceof EipError) throw err;
      throw new EipError('SPROUT_ERR_EIP_STORE', (err as Error).message, undefined, { cause: err });
    }
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
      for (const p of docs.pools) {
        for (const s of this.state.servicesInPool(p.name)) {
          for (const a of s.addresses) {
            if (a.pool === p.name && !blockContains(p.block, parseIp(a.ip))) {
              throw new EipError(
                'SPROUT_ERR_EIP_POOL_IN_USE',
                `the new address ${p.block.text} drops ${a.ip}, held by ${s.key}; release it or drain the pool first`,
                `Eip/${p.name}`,
              );
            }
          }
        }
      }
      for (const ns of docs.namespaces) {
        this.store.saveNamespace(ns.name, ns.labels);
        this.state.setNamespace(ns);
        result.namespaces.push(ns.name);
      }
      for (const p of docs.pools) {
        const old = this.state.pools.get(p.name)?.pool;
        const action = !old
          ? 'created'
          : JSON.stringify(old.document) === JSON.stringify(p.document)
            ? 'unchanged'
            : 'updated';
        if (action !== 'unchanged') {
          this.store.savePool(p.name, p.document);
          this.state.setPool(p);
        }
        result.pools.push({ name: p.name, action });
        const sel = p.namespaceSelector;
        if (
          sel &&
          Object.keys(sel).length &&
          ![...this.state.namespaces.values()].some((ns) =>
            Object.entries(sel).every(([k, v]) => ns.labels[k] === v),
          )
        ) {
          result.warnings.push(
            `Eip/${p.name}: namespaceSelector ${JSON.stringify(sel)} matches no known namespace (apply Namespace documents with those labels)`,
          );
        }
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
      this.store.append(++this.seq, key, null);
      this.journalRows++;
      this.state.remove(key);
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

  private commitService(s: ServiceState): void {
    this.store.append(++this.seq, s.key, s);
    this.journalRows++;
    this.state.commit(s);
  }

  get(namespace: string, name: string): ServiceState | undefined {
    this.refreshQuietly();
    return this.state.services.get(serviceKey(namespace, name));
  }

  services(): ServiceState[] {
    this.refreshQuietly();
    return [...this.state.services.values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  pools(): Pool[] {
    this.refreshQuietly();
    return [...this.state.pools.values()].map((p) => p.pool).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Size, used and free per pool. */
  usage(): PoolUsage[] {
    this.refreshQuietly();
    return this.state.usage();
  }

  bgp(): { conf?: BgpConf; peers: BgpPeer[] } {
    this.refreshQuietly();
    return { ...(this.bgpConf ? { conf: this.bgpConf } : {}), peers: [...this.bgpPeers.values()] };
  }

  /** Every held address with its pool; what the announcers make reachable. */
  held(): HeldAddress[] {
    const byIp = new Map<string, HeldAddress>();
    for (const s of this.state.services.values()) {
      for (const a of s.addresses) {
        const pool = this.state.pools.get(a.pool)?.pool;
        if (!pool) continue;
        const h = byIp.get(a.ip) ?? { ip: a.ip, family: a.family, pool, services: [] };
        h.services.push(s.key);
        byIp.set(a.ip, h);
      }
    }
    return [...byIp.values()];
  }

  events(limit?: number): StoredEvent[] {
    return this.store.events(limit);
  }

  private refreshQuietly(): void {
    // Nobody else committed since the last look (the common case): no transaction needed.
    if (this.store.dataVersion() === this.version) return;
    if (this.store.read(() => this.sync())) this.emit('change');
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

export type { Allocation };
