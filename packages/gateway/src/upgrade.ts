import { request, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { InstanceEndpoint } from './upstream.js';
import type { GatewayContext } from './context.js';
import { sendSocketError } from '@sprout/http';
import { forwardHeaders, responseHeaders, stripPrefix } from './http-util.js';

function rawHead(status: number, text: string, headers: string[], extra = ''): string {
  let out = `HTTP/1.1 ${status} ${text}\r\n`;
  for (let i = 0; i < headers.length; i += 2) out += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return out + extra + '\r\n';
}

/**
 * Proxies an upgrade request (WebSocket and others): routed and held like any request, then a
 * dedicated connection to the instance, piped both ways once it answers 101.
 */
export function proxyUpgrade(gw: GatewayContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', () => socket.destroy());
  if (gw.closing) {
    sendSocketError(socket, 503, 'SPROUT_ERR_GATEWAY_CLOSING', 'the gateway is shutting down');
    return;
  }
  const url = req.url ?? '/';
  const hit = gw.routes.table.lookup(req.headers.host, url, (n) => req.headers[n]);
  if (!hit) {
    gw.metrics.unrouted.inc();
    sendSocketError(socket, 404, 'SPROUT_ERR_GATEWAY_NO_ROUTE', 'no route matches this host and path');
    return;
  }
  const { slot, opts } = hit.value;
  slot.begin(performance.now());
  let status = 0;
  let cancelWait: (() => void) | undefined;
  socket.once('close', () => {
    slot.end(status);
    cancelWait?.();
  });
  const path = opts.stripPrefix ? stripPrefix(url, hit.prefix) : url;

  const go = (inst: InstanceEndpoint, cold: boolean) => {
    const release = slot.acquire(inst.id);
    const up = request({
      host: inst.host,
      port: inst.port,
      method: req.method,
      path,
      headers: forwardHeaders(req, true),
    });
    const timer = setTimeout(() => up.destroy(), opts.responseHeaderTimeoutMs);
    up.on('upgrade', (ur, us, uh) => {
      clearTimeout(timer);
      status = 101;
      const extra =
        `connection: Upgrade\r\nupgrade: ${ur.headers.upgrade ?? ''}\r\n` +
        (opts.coldStartHeader === true || (opts.coldStartHeader === 'cold' && cold)
          ? `${gw.coldHeader}: ${cold}\r\n`
          : '');
      socket.write(
        rawHead(101, ur.statusMessage ?? 'Switching Protocols', responseHeaders(ur.rawHeaders), extra),
      );
      if (uh.length) socket.write(uh);
      if (head.length) us.write(head);
      gw.upgraded.add(socket);
      us.on('error', () => socket.destroy());
      us.on('close', () => socket.destroy());
      socket.on('close', () => {
        us.destroy();
        gw.upgraded.delete(socket);
        release();
      });
      us.pipe(socket);
      socket.pipe(us);
    });
    up.on('response', (ur) => {
      clearTimeout(timer);
      status = ur.statusCode ?? 502;
      socket.write(
        rawHead(status, ur.statusMessage ?? '', responseHeaders(ur.rawHeaders), 'connection: close\r\n'),
      );
      ur.pipe(socket);
      ur.on('close', release);
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      release();
      slot.reject('upstream_failed');
      status = 502;
      sendSocketError(
        socket,
        502,
        'SPROUT_ERR_GATEWAY_UPSTREAM_FAILED',
        `function ${slot.name} instance ${inst.id} failed before answering (${err.code ?? err.message})`,
      );
    });
    up.end();
  };

  const inst = slot.pick();
  if (inst) {
    go(inst, false);
    return;
  }
  if (slot.queue.length >= opts.maxPendingRequests) {
    slot.reject('queue_full');
    status = 503;
    sendSocketError(socket, 503, 'SPROUT_ERR_GATEWAY_QUEUE_FULL', `function ${slot.name} queue is full`);
    return;
  }
  cancelWait = slot.wait(
    opts.readinessTimeoutMs,
    {
      ready(i) {
        cancelWait = undefined;
        go(i, true);
      },
      timeout() {
        cancelWait = undefined;
        status = 504;
        sendSocketError(
          socket,
          504,
          'SPROUT_ERR_GATEWAY_READINESS_TIMEOUT',
          `function ${slot.name} did not become ready within ${opts.readinessTimeoutMs} ms`,
        );
      },
      fail(s, code, message) {
        cancelWait = undefined;
        status = s;
        sendSocketError(socket, s, code, message);
      },
    },
    undefined,
    performance.now(),
  );
}
