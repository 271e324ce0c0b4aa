import type { InstanceEndpoint } from './backend.js';
import type { Exchange, GatewayContext } from './context.js';
import { sendError } from './http-util.js';

/** Sends an exchange to an instance (the forwarding path; passed in so the two modules stay apart). */
export type Forward = (gw: GatewayContext, ex: Exchange, inst: InstanceEndpoint) => void;

/**
 * A request for a function with no ready instance: answered with the route's placeholder, refused
 * when the function's queue is full, else held until an instance is ready (then `forward`), the
 * readiness wait expires (the fallback target, else 504) or the gateway gives up on it.
 */
export function holdRequest(gw: GatewayContext, ex: Exchange, forward: Forward): void {
  const { fn, opts } = ex.route;
  const now = performance.now();
  if (opts.placeholder) {
    fn.tick(now, 'request while no instance is ready');
    const ph = opts.placeholder;
    const body = ph.body ?? '';
    ex.res.writeHead(ph.status ?? 503, {
      'content-length': Buffer.byteLength(body),
      'retry-after': '1',
      ...(opts.coldStartHeader ? { [gw.coldHeader]: 'true' } : {}),
      ...ph.headers,
    });
    ex.res.end(body);
    return;
  }
  if (fn.queue.length >= opts.maxPendingRequests) {
    fn.reject('queue_full');
    sendError(
      ex.res,
      503,
      'SPROUT_ERR_GATEWAY_QUEUE_FULL',
      `function ${fn.name} has no ready instance and ${fn.queue.length} requests are already held`,
      { 'retry-after': '1' },
      { function: fn.name },
    );
    return;
  }
  ex.cold = true;
  ex.cancelWait = fn.wait(
    opts.readinessTimeoutMs,
    {
      ready(inst) {
        ex.cancelWait = undefined;
        forward(gw, ex, inst);
      },
      timeout() {
        ex.cancelWait = undefined;
        if (opts.fallback) forward(gw, ex, { id: 'fallback', ...opts.fallback });
        else {
          sendError(
            ex.res,
            504,
            'SPROUT_ERR_GATEWAY_READINESS_TIMEOUT',
            `function ${fn.name} did not become ready within ${opts.readinessTimeoutMs} ms`,
            {},
            { function: fn.name },
          );
        }
      },
      fail(status, code, message) {
        ex.cancelWait = undefined;
        sendError(ex.res, status, code, message, { connection: 'close' });
      },
    },
    ex.exclude,
    now,
  );
}
