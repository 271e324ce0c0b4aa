import { EventEmitter } from 'node:events';
import { serviceKey, type PoolUsage, type ServiceState } from '../allocation.js';
import { AllocatorState } from '../allocator.js';
import { EipError } from '../errors.js';
import { parseBgpConf, parseBgpPeer, parseEip, type BgpConf, type BgpPeer, type Pool } from '../spec.js';
import { EipStore, type Durability, type JournalEntry, type StoredEvent } from '../store.js';

/** A held address with its pool and holders, as the announcers see it. */
export interface HeldAddress {
  ip: string;
  family: 4 | 6;
  pool: Pool;
  services: string[];
}

/**
 * One process's in-memory allocator state, kept in step with the store that several processes may
 * write: it catches up on other processes' journal entries (or reloads everything after a
 * configuration change) before reading or deciding, and journals its own commits. The reads are
 * here; `EipManager` builds the operations that change it on top.
 *
 * Events: `change` when catching up changed the addresses held.
 */
export class SyncedState extends EventEmitter {
  protected readonly store: EipStore;
  protected state = new AllocatorState();
  protected bgpConf: BgpConf | undefined;
  protected readonly bgpPeers = new Map<string, BgpPeer>();
  /** The store's data version when `state` was last brought up to date. */
  private version = -1;
  private gen = -1;
  /** Last journal entry applied to `state`. */
  private seq = 0;
  private journalRows = 0;
  private readonly journalSlack: number;

  constructor(options: { dataDir: string; durability?: Durability; journalSlack?: number }) {
    super();
    this.store = new EipStore(options.dataDir, { durability: options.durability });
    this.journalSlack = options.journalSlack ?? 10_000;
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
  protected configChanged(): void {
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

  /** `refresh` for readers: nobody else committed since the last look (the common case) costs no transaction. */
  protected refreshQuietly(): void {
    if (this.store.dataVersion() === this.version) return;
    if (this.store.read(() => this.sync())) this.emit('change');
  }

  /**
   * Runs `fn` under the store's write lock, caught up first; compacts the journal when it has grown
   * past twice the live services plus the slack. A failure is a coded error and makes the next
   * look reload everything (memory may be ahead of the rolled-back disk).
   */
  protected write<T>(fn: () => T): T {
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
      this.version = -1;
      this.gen = -1;
      if (err instanceof EipError) throw err;
      throw new EipError('SPROUT_ERR_EIP_STORE', (err as Error).message, undefined, { cause: err });
    }
  }

  /** Journals a service's new state and applies it (inside `write`). */
  protected commitService(s: ServiceState): void {
    this.store.append(++this.seq, s.key, s);
    this.journalRows++;
    this.state.commit(s);
  }

  /** Journals a service's release and forgets it (inside `write`). */
  protected releaseService(key: string): void {
    this.store.append(++this.seq, key, null);
    this.journalRows++;
    this.state.remove(key);
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
}
