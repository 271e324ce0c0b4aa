import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { HttpError } from './errors.js';

/** The bounds every Sprout listener keeps; each has a default (`SERVER_LIMIT_DEFAULTS`). */
export interface ServerLimits {
  /**
   * Open connections at most. A connection over the cap first evicts the oldest one that is not in
   * the middle of a request (still sending its head, or idle); when every one is busy, the new one
   * is closed.
   */
  maxConnections?: number;
  /** A request head (request line and headers) must arrive within this, ms; else 408 and closed. */
  headersTimeoutMs?: number;
  /** The whole request (head and body) must arrive within this, ms; else 408 and closed. */
  requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this, ms. */
  keepAliveTimeoutMs?: number;
}

export const SERVER_LIMIT_DEFAULTS: Required<ServerLimits> = {
  maxConnections: 8_192,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 65_000,
};

/** How often Node checks the header and request timeouts, ms (its own default is 30 s). */
const CHECK_INTERVAL_MS = 1_000;

/**
 * Bounds a `node:http` server before it listens: a connection cap that makes room by evicting the
 * oldest connection not in the middle of a request (so a slowloris flood cannot lock good
 * clients out), tight header and request timeouts checked every second, and a keep-alive timeout.
 * Returns the limits in force. A value that is not a positive whole number throws
 * `SPROUT_ERR_HTTP_INVALID_LIMIT` naming the option in `field`.
 *
 * @example
 * const server = createServer(handler);
 * applyServerLimits(server, { maxConnections: 1_000 });
 * server.listen(8080);
 */
export function applyServerLimits<
  Req extends typeof IncomingMessage,
  Res extends typeof ServerResponse<InstanceType<Req>>,
>(server: Server<Req, Res>, limits: ServerLimits = {}): Required<ServerLimits> {
  const l = resolveServerLimits(limits);
  server.headersTimeout = l.headersTimeoutMs;
  // Node requires requestTimeout ≥ headersTimeout when both are set.
  server.requestTimeout = Math.max(l.requestTimeoutMs, l.headersTimeoutMs);
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
  (server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = Math.min(
    CHECK_INTERVAL_MS,
    l.headersTimeoutMs,
  );
  capConnections(server as unknown as Server<never, never>, l.maxConnections);
  return l;
}

/** Fills in defaults and checks every value is a positive whole number. */
export function resolveServerLimits(limits: ServerLimits = {}): Required<ServerLimits> {
  const l = { ...SERVER_LIMIT_DEFAULTS };
  for (const key of Object.keys(SERVER_LIMIT_DEFAULTS) as (keyof ServerLimits)[]) {
    const v = limits[key];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v <= 0) {
      throw new HttpError('SPROUT_ERR_HTTP_INVALID_LIMIT', `${key} must be a whole number > 0, not ${v}`, {
        field: key,
      });
    }
    l[key] = v;
  }
  return l;
}

/**
 * A `node:http` connection that is not in the middle of a request: still sending its head, or idle.
 * Exported for listeners that take connections before `node:http` does (the gateway's raw listener).
 */
export function httpConnectionEvictable(socket: Socket): boolean {
  // Node sets `_httpMessage` to the response while a request is being answered and frees the parser
  // of an upgraded connection; nothing is added to the request path to know which ones wait.
  const s = socket as Socket & { _httpMessage?: unknown; parser?: unknown };
  return !s._httpMessage && !!s.parser;
}

/**
 * The connection cap of `applyServerLimits` for a listener that accepts connections itself: the
 * returned function admits a new connection (true) after making room by closing the oldest one
 * `evictable` allows, or closes the new one when every open one is busy (false).
 */
export function connectionCap(
  max: number,
  evictable: (socket: Socket) => boolean = httpConnectionEvictable,
): (socket: Socket) => boolean {
  // Open connections, oldest first.
  const open = new Set<Socket>();
  return (socket) => {
    if (open.size >= max) {
      let victim: Socket | undefined;
      for (const s of open) {
        if (evictable(s)) {
          victim = s;
          break;
        }
      }
      if (!victim) {
        socket.destroy();
        return false;
      }
      open.delete(victim);
      victim.destroy();
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    return true;
  };
}

function capConnections(server: Server<never, never>, max: number): void {
  const admit = connectionCap(max);
  server.on('connection', (socket: Socket) => void admit(socket));
}
