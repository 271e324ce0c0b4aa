import { Pool } from 'undici';
import type { InstanceEndpoint } from './upstream.js';

/** One undici connection pool per instance address, created on first use and closed when the instance is gone. */
export class PoolSet {
  private readonly pools = new Map<string, Pool>();

  /** `connections`: sockets per instance at most; requests beyond wait in the pool's queue. */
  constructor(private readonly connections: number) {}

  get(inst: { host: string; port: number }): Pool {
    const key = `${inst.host}:${inst.port}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new Pool(`http://${key}`, {
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connections: this.connections,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Closes (gracefully: requests in flight finish) the pools of addresses no longer listed. */
  prune(live: readonly InstanceEndpoint[]): void {
    const keep = new Set(live.map((i) => `${i.host}:${i.port}`));
    for (const [key, pool] of this.pools) {
      if (keep.has(key)) continue;
      this.pools.delete(key);
      pool.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.destroy().catch(() => {})));
  }
}
