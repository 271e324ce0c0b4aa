import type { ServerResponse } from 'node:http';
import type { GatewayContext, Exchange } from '../context.js';
import { RawResponse } from '../listener/raw-response.js';
import type { InstanceEndpoint } from '../upstream.js';
import { forwardHeaders, responseHeaders } from '../http-util.js';
import { BodyDecoder } from './body-decoder.js';
import type { SimpleRequest } from '../listener/request-parser.js';
import { passedRequestHead, requestHead } from './request-head.js';
import { ForwardError, ResponseHeadParser, type ResponseHead } from './response-head.js';
import { awaitHead, type ConnUser, type UpstreamConn } from './upstream-conns.js';

/** How a forwarding attempt ends badly; the forwarder (forwarding.ts) owns the answers (one per gateway). */
export interface RawOutcome {
  /** Before response headers: 504 on a timeout, retry when the instance was never reached, else 502. */
  early(
    gw: GatewayContext,
    ex: Exchange,
    inst: InstanceEndpoint,
    err: Error & { code?: string },
    timedOut: boolean,
    neverReached: boolean,
  ): void;
  /** After response headers: the client's connection is cut. */
  mid(gw: GatewayContext, ex: Exchange, inst: InstanceEndpoint, err: Error & { code?: string }): void;
}

/** Methods safe to send again when a reused connection closed before any byte of the answer. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Sends again at most this often on stale pooled connections. */
const STALE_RETRIES = 2;

/**
 * Forwards a request without a body over a pooled raw connection: the head written in one go,
 * the response head parsed by our own parser, the body taken off the wire by its framing and
 * streamed to the client with backpressure. False when the request cannot take this path.
 * `mark`: the cold-start header for the response, if any.
 */
export function forwardRaw(
  gw: GatewayContext,
  ex: Exchange,
  inst: InstanceEndpoint,
  done: () => void,
  outcome: RawOutcome,
  mark: readonly [string, string] | undefined,
): boolean {
  const method = ex.req.method ?? 'GET';
  const fields = (ex.req as Partial<Pick<SimpleRequest, 'forwardFields'>>).forwardFields;
  const head =
    fields !== undefined
      ? passedRequestHead(
          method,
          ex.path,
          fields,
          ex.req.headers as Record<string, string>,
          ex.req.socket.remoteAddress,
        )
      : requestHead(method, ex.path, (ex.headers ??= forwardHeaders(ex.req, false)));
  if (head === undefined) return false;
  new RawAttempt(gw, ex, inst, head, method, done, outcome, mark, 0).begin();
  return true;
}

/**
 * One try of a request on one pooled connection: it is the connection's user while it lasts and
 * the exchange's `upstream` (what the client's leaving aborts). One object per try, its steps
 * methods rather than closures made per request.
 */
class RawAttempt implements ConnUser {
  private conn: UpstreamConn | undefined;
  private finished = false;
  private responded = false;
  private gotBytes = false;
  private keep = false;
  private body: BodyDecoder | undefined;
  private readonly parser = new ResponseHeadParser();

  constructor(
    private readonly gw: GatewayContext,
    private readonly ex: Exchange,
    private readonly inst: InstanceEndpoint,
    private readonly head: string,
    private readonly method: string,
    private readonly done: () => void,
    private readonly outcome: RawOutcome,
    private readonly mark: readonly [string, string] | undefined,
    private readonly staleTries: number,
  ) {}

  begin(): void {
    this.ex.upstream = this;
    this.gw.conns.acquire(this.inst, this.acquired);
  }

  /** The client left: the attempt ends and its connection is closed. */
  destroy(): void {
    if (!this.finished) this.settle(false);
  }

  private readonly acquired = (err: Error | undefined, c?: UpstreamConn) => {
    if (err || !c) {
      if (this.finished) return;
      this.finished = true;
      this.done();
      const e = (err ?? new Error('no connection')) as Error & { code?: string };
      this.outcome.early(this.gw, this.ex, this.inst, e, false, e.code === 'ECONNREFUSED');
      return;
    }
    this.conn = c;
    if (this.finished || this.ex.res.destroyed) {
      this.gw.conns.release(c, true);
      if (!this.finished) {
        this.finished = true;
        this.done();
      }
      return;
    }
    c.user = this;
    awaitHead(c, this.ex.route.opts.responseHeaderTimeoutMs);
    c.socket.write(this.head, 'latin1');
  };

  headTimeout(): void {
    if (this.finished || this.responded) return;
    this.settle(false);
    this.outcome.early(this.gw, this.ex, this.inst, new Error('no response headers in time'), true, false);
  }

  /** Ends this attempt: the connection goes back to the pool or is closed. */
  private settle(reuse: boolean): void {
    this.finished = true;
    const conn = this.conn;
    if (conn) {
      conn.socket.resume();
      this.gw.conns.release(conn, reuse);
    }
    this.done();
  }

  private readonly write = (chunk: Buffer) => {
    if (!this.ex.res.write(chunk)) {
      const socket = this.conn!.socket;
      socket.pause();
      this.ex.res.once('drain', () => socket.resume());
    }
  };

  private start(h: ResponseHead, rest: Buffer): void {
    this.responded = true;
    const res = this.ex.res;
    if (res.destroyed) return this.settle(false);
    const framing = this.method === 'HEAD' ? ({ kind: 'none' } as const) : h.framing;
    this.keep = !h.close && framing.kind !== 'close';
    const raw = res as unknown as RawResponse | ServerResponse;
    if (framing.kind === 'length' && h.reason !== '' && raw instanceof RawResponse) {
      // framed by its length: the head's bytes go on as they came, less the hop-by-hop lines
      raw.passHead(h.status, h.bytes, h.fieldsEnd, h.hopLines, h.hasDate, this.mark);
    } else res.writeHead(h.status, h.reason, responseHeaders(h.rawHeaders, this.mark));
    if (framing.kind === 'length' && rest.length === framing.length) {
      // the whole body came with the head: one write to the client
      this.settle(this.keep);
      res.end(rest);
      return;
    }
    const body = (this.body = new BodyDecoder(framing, this.write));
    if (body.push(rest)) {
      this.settle(this.keep);
      res.end();
    } else if (!h.hasLength) res.flushHeaders();
  }

  private fail(err: Error & { code?: string }): void {
    if (this.finished) return;
    this.settle(false);
    if (this.responded) this.outcome.mid(this.gw, this.ex, this.inst, err);
    else this.outcome.early(this.gw, this.ex, this.inst, err, false, false);
  }

  data(chunk: Buffer): void {
    if (this.finished) return;
    this.gotBytes = true;
    try {
      if (this.body) {
        if (this.body.push(chunk)) {
          this.settle(this.keep);
          this.ex.res.end();
        }
        return;
      }
      let r = this.parser.push(chunk);
      // interim 1xx responses are dropped; 101 answers only an Upgrade request (upgrade.ts)
      while (r && r.head.status < 200) {
        if (r.head.status === 101)
          throw new ForwardError('101 Switching Protocols to a request without Upgrade');
        r = r.rest.length > 0 ? this.parser.push(r.rest) : undefined;
      }
      if (r) this.start(r.head, r.rest);
    } catch (err) {
      this.fail(
        err instanceof ForwardError
          ? Object.assign(err, { message: `malformed response: ${err.message}` })
          : (err as Error),
      );
    }
  }

  closed(err: (Error & { code?: string }) | undefined): void {
    if (this.finished) return;
    if (!err && this.body && !this.body.done && this.responded && !this.keep) {
      // a close-delimited body ends with the connection
      this.settle(false);
      this.ex.res.end();
      return;
    }
    if (
      !this.gotBytes &&
      this.conn!.reused &&
      this.staleTries < STALE_RETRIES &&
      IDEMPOTENT.has(this.method)
    ) {
      // the instance closed an idle pooled connection as the request went out: send again
      this.finished = true;
      const { gw, ex, inst, head, method, done, outcome, mark } = this;
      new RawAttempt(gw, ex, inst, head, method, done, outcome, mark, this.staleTries + 1).begin();
      return;
    }
    this.fail(
      err ??
        new Error(
          this.responded
            ? 'instance closed the connection mid-response'
            : 'instance closed the connection before answering',
        ),
    );
  }
}
