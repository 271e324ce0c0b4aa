import type { GatewayContext, Exchange } from '../context.js';
import type { InstanceEndpoint } from '../upstream.js';
import { forwardHeaders, responseHeaders } from '../http-util.js';
import { BodyDecoder } from './body-decoder.js';
import { requestHead } from './request-head.js';
import { ForwardError, ResponseHeadParser, type ResponseHead } from './response-head.js';
import type { ConnUser, UpstreamConn } from './upstream-conns.js';

/** How a forwarding attempt ends badly; the forwarder (forwarding.ts) owns the answers. */
export interface RawOutcome {
  /** Before response headers: 504 on a timeout, retry when the instance was never reached, else 502. */
  early(err: Error & { code?: string }, timedOut: boolean, neverReached: boolean): void;
  /** After response headers: the client's connection is cut. */
  mid(err: Error & { code?: string }): void;
  /** The cold-start header for the response, if any. */
  mark: [string, string] | undefined;
}

/** Methods safe to send again when a reused connection closed before any byte of the answer. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Sends again at most this often on stale pooled connections. */
const STALE_RETRIES = 2;

/**
 * Forwards a request without a body over a pooled raw connection: the head written in one go,
 * the response head parsed by our own parser, the body taken off the wire by its framing and
 * streamed to the client with backpressure. False when the request cannot take this path.
 */
export function forwardRaw(
  gw: GatewayContext,
  ex: Exchange,
  inst: InstanceEndpoint,
  done: () => void,
  outcome: RawOutcome,
): boolean {
  const method = ex.req.method ?? 'GET';
  const head = requestHead(method, ex.path, (ex.headers ??= forwardHeaders(ex.req, false)));
  if (head === undefined) return false;
  attempt(gw, ex, inst, head, method, done, outcome, 0);
  return true;
}

function attempt(
  gw: GatewayContext,
  ex: Exchange,
  inst: InstanceEndpoint,
  head: string,
  method: string,
  done: () => void,
  outcome: RawOutcome,
  staleTries: number,
): void {
  const conns = gw.conns;
  const { res } = ex;
  let conn: UpstreamConn | undefined;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  let responded = false;
  let gotBytes = false;
  let keep = false;
  let body: BodyDecoder | undefined;
  const parser = new ResponseHeadParser();

  /** Ends this attempt: the connection goes back to the pool or is closed. */
  const settle = (reuse: boolean) => {
    finished = true;
    clearTimeout(timer);
    if (conn) {
      conn.socket.resume();
      conns.release(conn, reuse);
    }
    done();
  };
  ex.upstream = {
    destroy() {
      if (!finished) settle(false);
    },
  };

  const write = (chunk: Buffer) => {
    if (!res.write(chunk)) {
      const socket = conn!.socket;
      socket.pause();
      res.once('drain', () => socket.resume());
    }
  };

  const start = (h: ResponseHead, rest: Buffer) => {
    clearTimeout(timer);
    responded = true;
    if (res.destroyed) return settle(false);
    const framing = method === 'HEAD' ? ({ kind: 'none' } as const) : h.framing;
    keep = !h.close && framing.kind !== 'close';
    const headers = responseHeaders(h.rawHeaders, outcome.mark);
    if (framing.kind === 'length' && rest.length === framing.length) {
      // the whole body came with the head: one write to the client
      res.writeHead(h.status, h.reason, headers);
      settle(keep);
      res.end(rest);
      return;
    }
    res.writeHead(h.status, h.reason, headers);
    body = new BodyDecoder(framing, write);
    if (body.push(rest)) {
      settle(keep);
      res.end();
    } else if (!h.hasLength) res.flushHeaders();
  };

  const fail = (err: Error & { code?: string }) => {
    if (finished) return;
    settle(false);
    if (responded) outcome.mid(err);
    else outcome.early(err, false, false);
  };

  const user: ConnUser = {
    data(chunk) {
      if (finished) return;
      gotBytes = true;
      try {
        if (body) {
          if (body.push(chunk)) {
            settle(keep);
            res.end();
          }
          return;
        }
        let r = parser.push(chunk);
        // interim 1xx responses are dropped; 101 answers only an Upgrade request (upgrade.ts)
        while (r && r.head.status < 200) {
          if (r.head.status === 101)
            throw new ForwardError('101 Switching Protocols to a request without Upgrade');
          r = r.rest.length > 0 ? parser.push(r.rest) : undefined;
        }
        if (r) start(r.head, r.rest);
      } catch (err) {
        fail(
          err instanceof ForwardError
            ? Object.assign(err, { message: `malformed response: ${err.message}` })
            : (err as Error),
        );
      }
    },
    closed(err) {
      if (finished) return;
      if (!err && body && !body.done && responded && !keep) {
        // a close-delimited body ends with the connection
        settle(false);
        res.end();
        return;
      }
      if (!gotBytes && conn!.reused && staleTries < STALE_RETRIES && IDEMPOTENT.has(method)) {
        // the instance closed an idle pooled connection as the request went out: send again
        finished = true;
        clearTimeout(timer);
        attempt(gw, ex, inst, head, method, done, outcome, staleTries + 1);
        return;
      }
      fail(
        err ??
          new Error(
            responded
              ? 'instance closed the connection mid-response'
              : 'instance closed the connection before answering',
          ),
      );
    },
  };

  conns.acquire(inst, (err, c) => {
    if (err || !c) {
      if (finished) return;
      finished = true;
      done();
      const e = (err ?? new Error('no connection')) as Error & { code?: string };
      outcome.early(e, false, e.code === 'ECONNREFUSED');
      return;
    }
    conn = c;
    if (finished || res.destroyed) {
      conns.release(c, true);
      if (!finished) {
        finished = true;
        done();
      }
      return;
    }
    c.user = user;
    timer = setTimeout(() => {
      if (finished) return;
      settle(false);
      outcome.early(new Error('no response headers in time'), true, false);
    }, ex.route.opts.responseHeaderTimeoutMs);
    c.socket.write(head, 'latin1');
  });
}
