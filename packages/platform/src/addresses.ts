import { join } from 'node:path';
import type { Announcing, EipDocuments, EipManager, ServiceState } from '@sprout/eip';
import type { Logger } from '@sprout/observe';
import type { Registry } from '@sprout/observe/metrics';
import type { ResolvedFunction } from '@sprout/spec';
import type { EventBus } from './events.js';

/** A function's load-balancer address as the API shows it. */
export interface FunctionAddress {
  status: 'allocated' | 'pending';
  /** Allocated addresses (one per family). */
  addresses: string[];
  pool?: string;
  /** Why the function has no address yet (OpenELB-style reason and message). */
  reason?: string;
  message?: string;
}

export interface AddressesOptions {
  dataDir: string;
  logger: Logger;
  /** Registry the EIP pool gauges and counters are registered on. */
  metrics: Registry;
  /** Eip/BgpConf/BgpPeer/Namespace YAML applied at start (`sprout dev --eip FILE`). */
  apply?: string;
  /** Runs the announcers (local, layer2, BGP) in this process; default true. */
  announce?: boolean;
  /** The functions registered now. */
  definitions: () => ResolvedFunction[];
  /** Where `address.*` and `pool.exhausted` events go. */
  events?: EventBus;
}

/**
 * Gives each exposed function an address from its namespace's EIP pool and keeps it: the service
 * `<namespace>/<function>` is allocated once pools exist, released when the function is removed,
 * and stays where it is across restarts (the allocation lives in `<data-dir>/eip.db`, which
 * `sprout eip` commands share). Pool changes made elsewhere are picked up by polling the store.
 */
export class FunctionAddresses {
  private readonly listeners = new Set<() => void>();
  private syncing: Promise<void> = Promise.resolve();
  private readonly onChange = () => {
    this.resync();
    for (const l of this.listeners) l();
  };
  private readonly onExhausted = ({ pool }: { pool: string }) => {
    this.events?.emit('pool.exhausted', { pool });
  };

  private constructor(
    readonly manager: EipManager,
    private readonly announcing: Announcing | undefined,
    private readonly log: Logger,
    private readonly definitions: () => ResolvedFunction[],
    private readonly events: EventBus | undefined,
  ) {
    manager.on('change', this.onChange);
    manager.on('exhausted', this.onExhausted);
  }

  static async open(o: AddressesOptions): Promise<FunctionAddresses> {
    const eip = await import('@sprout/eip');
    const log = o.logger.child({ component: 'eip' });
    const manager = eip.createEipManager({ dataDir: o.dataDir, logger: log, metrics: o.metrics });
    try {
      if (o.apply !== undefined) applyOnly(manager, eip.parseEipYaml(o.apply, '--eip'), log);
      else if (manager.pools().length) {
        const pools = manager
          .pools()
          .map((p) => p.name)
          .sort();
        log.info(
          { pools, store: join(o.dataDir, 'eip.db') },
          `using pools from ${join(o.dataDir, 'eip.db')} (applied earlier: ${pools.join(', ')}; --eip FILE uses only that file's pools, --no-eip none, --fresh starts clean)`,
        );
      }
      const announcing =
        o.announce === false
          ? undefined
          : eip.startAnnouncing(manager, {
              announcers: eip.createAnnouncers(manager, { logger: log }),
              logger: log,
            });
      return new FunctionAddresses(manager, announcing, log, o.definitions, o.events);
    } catch (err) {
      manager.close();
      throw err;
    }
  }

  /** Called whenever an allocation changes (routes follow addresses). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Allocates for every exposed function that has no address yet, once any pool exists (without
   * pools nothing is asked, so a platform without EIP shows no pending functions). Requests of one
   * call share one transaction.
   */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(async () => {
      if (!this.manager.pools().length) return;
      const wanted = this.definitions().filter((d) => d.expose.enabled);
      await Promise.all(
        wanted.map(async (d) => {
          const have = this.manager.get(d.namespace, d.name);
          const request = requestFor(d);
          if (have && sameRequest(have, request)) return;
          try {
            const s = await this.manager.allocateAsync(request);
            const fields = { function: d.name, namespace: d.namespace };
            if (s.status === 'allocated') {
              const addresses = s.addresses.map((a) => a.ip);
              this.events?.emit('address.allocated', { ...fields, addresses, pool: s.addresses[0]!.pool });
              this.log.info(
                { function: d.name, namespace: d.namespace, addresses: s.addresses.map((a) => a.ip) },
                'function address allocated',
              );
            } else {
              if (have?.status !== 'pending' || have.condition?.reason !== s.condition?.reason) {
                this.events?.emit('address.pending', {
                  ...fields,
                  reason: s.condition?.reason ?? 'Pending',
                  error: s.condition?.message ?? 'pending',
                });
              }
              this.log.warn(
                { function: d.name, namespace: d.namespace, reason: s.condition?.reason },
                `function ${d.name} has no address: ${s.condition?.message ?? 'pending'}`,
              );
            }
          } catch (err) {
            this.log.error({ err, function: d.name }, 'address allocation failed');
          }
        }),
      );
    });
    return this.syncing;
  }

  /** Releases the address of a removed function. */
  release(def: Pick<ResolvedFunction, 'name' | 'namespace'>): void {
    if (!this.manager.get(def.namespace, def.name)) return;
    const old = this.manager.release(def.namespace, def.name);
    this.events?.emit('address.released', {
      function: def.name,
      namespace: def.namespace,
      addresses: old.addresses.map((a) => a.ip),
    });
    this.log.info({ function: def.name, namespace: def.namespace }, 'function address released');
  }

  /** The function's address, or undefined when it has none and is not waiting for one. */
  of(def: Pick<ResolvedFunction, 'name' | 'namespace'>): FunctionAddress | undefined {
    const s = this.manager.get(def.namespace, def.name);
    return s ? view(s) : undefined;
  }

  /** Resolves once every address held now is announced (or its failure logged). */
  async settled(): Promise<void> {
    await this.syncing;
    await this.announcing?.settled();
  }

  private resync(): void {
    // A pool applied elsewhere may satisfy a pending function: ask again.
    const pending = this.definitions().some(
      (d) => d.expose.enabled && this.manager.get(d.namespace, d.name)?.status !== 'allocated',
    );
    if (pending) void this.sync();
  }

  async close(): Promise<void> {
    this.manager.off('change', this.onChange);
    this.manager.off('exhausted', this.onExhausted);
    this.listeners.clear();
    await this.syncing;
    await this.announcing?.close();
    this.manager.close();
  }
}

/**
 * Applies `--eip` documents so that their pools are the only ones: a pool applied earlier that the
 * documents leave out, or give other addresses, is deleted first (drained: its holders get addresses
 * from the documents' pools, or wait). Namespaces and BGP settings are applied on top of what is kept.
 */
function applyOnly(manager: EipManager, docs: EipDocuments, log: Logger): void {
  const wanted = new Map(docs.pools.map((p) => [p.name, p]));
  const removed: string[] = [];
  for (const p of manager.pools()) {
    const next = wanted.get(p.name);
    if (next && next.block.text === p.block.text) continue;
    manager.deletePool(p.name, { drain: true });
    if (!next) removed.push(p.name);
  }
  if (removed.length) {
    removed.sort();
    log.info(
      { removed },
      `pools applied earlier and not in the --eip documents were removed: ${removed.join(', ')} (only the file's pools are used)`,
    );
  }
  const r = manager.apply(docs);
  for (const w of r.warnings) log.warn(w);
  log.info({ pools: r.pools.map((p) => `${p.name} ${p.action}`) }, 'EIP documents applied');
}

function requestFor(d: ResolvedFunction) {
  return {
    namespace: d.namespace,
    name: d.name,
    ...(d.expose.pool ? { pool: d.expose.pool } : {}),
    ...(d.expose.ip ? { ips: [d.expose.ip] } : {}),
  };
}

function sameRequest(s: ServiceState, r: ReturnType<typeof requestFor>): boolean {
  return (
    s.request.pool === r.pool &&
    (s.request.ips ?? []).join() === (r.ips ?? []).join() &&
    s.status === 'allocated'
  );
}

function view(s: ServiceState): FunctionAddress {
  return {
    status: s.status,
    addresses: s.addresses.map((a) => a.ip),
    ...(s.addresses[0] ? { pool: s.addresses[0].pool } : {}),
    ...(s.condition ? { reason: s.condition.reason, message: s.condition.message } : {}),
  };
}
