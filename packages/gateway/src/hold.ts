import type { InstanceEndpoint } from './upstream.js';
import type { Exchange, GatewayContext } from './context.js';
import { sendGatewayError } from './http-util.js';

/** Sends an exchange to an instance (the forwarding path; passed in so the two modules stay apart). */
export type Forward = (gw: GatewayContext, ex: Exchange, inst: InstanceEndpoint) => void;

/**
 * A request for a function with no ready instance: answered with the route's placeholder, refused
 * when the function's queue is full, else held until an instance is ready (then `forward`), the
 * readiness wait expires (the fallback target, else 504) or the gateway gives up on it.
 */
export function holdRequest(gw: GatewayContext, ex: Exchange, forward: Forward): void {
  const { slot, opts } = ex.route;
  const now = performance.now();
  if (opts.placeholder) {
    slot.tick(now, 'request while no instance is ready');
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
  if (slot.queue.length >= opts.maxPendingRequests) {
    slot.reject('queue_full');
    sendGatewayError(
      ex.res,
      503,
      'SPROUT_ERR_GATEWAY_QUEUE_FULL',
      `function ${slot.name} has no ready instance and ${slot.queue.length} requests are already held`,
      { 'retry-after': '1' },
      { function: slot.name },
    );
    return;
  }
  ex.cold = true;
  ex.cancelWait = slot.wait(
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
          sendGatewayError(
            ex.res,
            504,
            'SPROUT_ERR_GATEWAY_READINESS_TIMEOUT',
            `function ${slot.name} did not become ready within ${opts.readinessTimeoutMs} ms`,
            {},
            { function: slot.name },
          );
        }
      },
      fail(status, code, message) {
        ex.cancelWait = undefined;
        sendGatewayError(ex.res, status, code, message, { connection: 'close' });
      },
    },
    ex.exclude,
    now,
  );
}
