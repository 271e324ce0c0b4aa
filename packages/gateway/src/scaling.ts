import type { GatewayContext } from './context.js';

/** Scaling decisions between pool prunings: closed instances' connection pools go every 20 ticks. */
const PRUNE_EVERY = 20;

/**
 * Runs every function's scaler every `intervalMs` (each decision may call the upstream's `scaleTo`)
 * and closes the connection pools of instances that are gone. Returns the function that stops it.
 */
export function startScaling(gw: GatewayContext, intervalMs: number): () => void {
  let ticks = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    if (++ticks % PRUNE_EVERY === 0) {
      const live = gw.routes.liveEndpoints();
      gw.pools.prune(live);
      gw.conns.prune(live);
    }
    for (const slot of gw.routes.slots.values()) {
      try {
        slot.tick(now);
      } catch (err) {
        gw.log.error({ err, function: slot.name }, 'scaling decision failed');
      }
    }
  }, intervalMs);
  ticker.unref();
  return () => clearInterval(ticker);
}
