import { maxHeaderSize, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { connectionCap, httpConnectionEvictable, sendSocketError, type ServerLimits } from '@sprout/http';
import { MORE, OTHER, parseRequestHead, type ParseResult } from './request-parser.js';
import { RawResponse, type ResponseOwner } from './raw-response.js';
import { readInto } from './socket-reader.js';

/** What the listener does with a parsed request (the gateway's request handler). */
export type RawHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Bytes a connection may send ahead while its request is answered (pipelining) before it is paused. */
const MAX_AHEAD = 64 * 1024;

const enum Phase {
  /** Receiving a request head (or nothing yet on a new connection). */
  Head,
  /** A request is being answered. */
  Busy,
  /** Between requests, kept alive. */
  Idle,
  /** Ending (after `Connection: close` or a timeout). */
  Closing,
}

/**
 * The gateway's client side for the common case. It takes the `node:http` server's connections
 * before Node does: a connection's simple requests (see request-parser.ts) are parsed here and
 * answered through a `RawResponse`, so no `IncomingMessage`/`ServerResponse` stream is made per
 * request. At the first request that is not simple (a body, an upgrade, Expect, HTTP/1.0,
 * `Connection: close`, a malformed or oversized head) the connection is handed to `node:http` with
 * the unread bytes put back, and stays there: every behaviour of the node:http path (bodies,
 * WebSockets, its parser's refusals) is unchanged. The listener keeps the server's limits itself:
 * the connection cap (counting both kinds), the header timeout (408) and the keep-alive timeout,
 * checked every second as Node does.
 */
export class RawListener {
  private readonly conns = new Set<RawConn>();
  private readonly timer: NodeJS.Timeout;
  /** The `node:http` server's own connection listeners, called for a connection handed over. */
  private readonly nodeListeners: ((socket: Socket) => void)[];
  /** The Connection and Keep-Alive lines of a response on a kept connection. */
  readonly keepAliveLines: string;

  constructor(
    private readonly server: Server,
    readonly handle: RawHandler,
    readonly limits: Required<ServerLimits>,
  ) {
    const keepAliveSeconds = Math.floor(limits.keepAliveTimeoutMs / 1000);
    this.keepAliveLines = `Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveSeconds}\r\n`;
    this.nodeListeners = server.listeners('connection') as ((socket: Socket) => void)[];
    server.removeAllListeners('connection');
    const admit = connectionCap(limits.maxConnections, (s) => {
      const raw = RAW.get(s);
      return raw ? raw.phase !== Phase.Busy : httpConnectionEvictable(s);
    });
    server.on('connection', (socket: Socket) => {
      if (admit(socket)) this.conns.add(new RawConn(this, socket));
    });
    const every = Math.min(1000, limits.headersTimeoutMs, limits.keepAliveTimeoutMs);
    this.timer = setInterval(() => this.sweep(), every).unref();
  }

  /** Gives a connection to `node:http`: its bytes not yet parsed go back on the socket first. */
  handOff(conn: RawConn, unread: Buffer | undefined): void {
    this.conns.delete(conn);
    const socket = conn.socket;
    socket.pause();
    if (unread) socket.unshift(unread);
    for (const l of this.nodeListeners) l.call(this.server, socket);
    socket.resume();
  }

  forget(conn: RawConn): void {
    this.conns.delete(conn);
  }

  /** Closes the connections waiting for a request (`close()` draining). */
  closeIdle(): void {
    for (const c of this.conns) if (c.idle()) c.socket.destroy();
  }

  closeAll(): void {
    clearInterval(this.timer);
    for (const c of this.conns) c.socket.destroy();
  }

  /** A head not in within the header timeout: 408 and closed; an idle connection past keep-alive: closed. */
  private sweep(): void {
    const now = performance.now();
    const { headersTimeoutMs, keepAliveTimeoutMs } = this.limits;
    for (const c of this.conns) {
      if (c.phase === Phase.Head && now - c.since > headersTimeoutMs) {
        c.phase = Phase.Closing;
        sendSocketError(
          c.socket,
          408,
          'SPROUT_ERR_HTTP_MALFORMED_REQUEST',
          'the request could not be read: ERR_HTTP_REQUEST_TIMEOUT',
        );
      } else if (c.phase === Phase.Idle && now - c.since > keepAliveTimeoutMs) {
        c.phase = Phase.Closing;
        c.socket.destroy();
      }
    }
  }
}

/** The raw connection of a socket, for the connection cap's eviction choice. */
const RAW = new WeakMap<Socket, RawConn>();
const noop = () => {};

/** One client connection while the raw listener serves it. */
class RawConn implements ResponseOwner {
  phase = Phase.Head;
  /** When the current phase started (performance.now()). */
  since = performance.now();
  /** Bytes received and not yet parsed. */
  private buf: Buffer | undefined;
  /** Bytes of `buf` already searched for the end of the head. */
  private searched = 0;
  private res: RawResponse | undefined;
  private paused = false;
  /** The client ended its side: close once the response in flight is written. */
  private ended = false;
  /** Given to node:http (its reads go to the socket's readable stream). */
  private handedOff = false;

  constructor(
    private readonly listener: RawListener,
    readonly socket: Socket,
  ) {
    RAW.set(socket, this);
    if (!readInto(socket, this.onRead)) socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('error', noop); // reported through 'close'
  }

  idle(): boolean {
    return this.phase === Phase.Idle || (this.phase === Phase.Head && this.buf === undefined);
  }

  /** A read through `readInto`: `chunk` is only lent, what is kept after it is copied. */
  private readonly onRead = (chunk: Buffer): boolean => {
    // handed to node:http: its reads go to the socket's stream as they would without readInto
    if (this.handedOff) return this.socket.push(Buffer.from(chunk));
    this.take(chunk);
    if (this.buf !== undefined && this.buf.buffer === chunk.buffer) this.buf = Buffer.from(this.buf);
    return true;
  };

  private readonly onData = (chunk: Buffer) => this.take(chunk);

  private take(chunk: Buffer): void {
    if (this.phase === Phase.Closing) return;
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    if (this.phase === Phase.Busy) {
      if (this.buf.length > MAX_AHEAD && !this.paused) {
        this.paused = true;
        this.socket.pause();
      }
      return;
    }
    if (this.phase === Phase.Idle) {
      this.phase = Phase.Head;
      this.since = performance.now();
    }
    this.next();
  }

  /** Parses what is buffered: a simple request is answered, anything else goes to node:http. */
  private next(): void {
    const buf = this.buf!;
    let r: ParseResult;
    try {
      r = parseRequestHead(buf, this.searched, maxHeaderSize);
    } catch {
      r = OTHER; // not expected; node:http's parser decides
    }
    if (r === MORE) {
      this.searched = buf.length;
      return;
    }
    this.searched = 0;
    if (r === OTHER) {
      this.buf = undefined;
      this.handedOff = true;
      // a read lent by readInto: the bytes go back on the socket, so they must outlive it
      const unread = Buffer.from(buf);
      this.socket.removeListener('data', this.onData);
      this.socket.removeListener('end', this.onEnd);
      this.socket.removeListener('close', this.onClose);
      this.socket.removeListener('error', noop);
      RAW.delete(this.socket);
      this.listener.handOff(this, unread);
      return;
    }
    this.buf = r.size < buf.length ? buf.subarray(r.size) : undefined;
    this.phase = Phase.Busy;
    const req = {
      method: r.method,
      url: r.url,
      headers: r.headers,
      rawHeaders: r.rawHeaders,
      forwardFields: r.forwardFields,
      httpVersion: '1.1',
      socket: this.socket,
    };
    const res = new RawResponse(this, r.method === 'HEAD', this.listener.keepAliveLines);
    this.res = res;
    this.listener.handle(req as unknown as IncomingMessage, res as unknown as ServerResponse);
  }

  finished(res: RawResponse): void {
    if (this.res !== res) return;
    this.res = undefined;
    if (res.closeAfter || this.ended) {
      this.phase = Phase.Closing;
      this.socket.end();
      return;
    }
    this.phase = Phase.Idle;
    this.since = performance.now();
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    if (this.buf) {
      // a pipelined request: parsed once this one's handlers have run
      this.phase = Phase.Head;
      setImmediate(() => {
        if (this.phase === Phase.Head && this.buf && !this.socket.destroyed) this.next();
      });
    }
  }

  private readonly onEnd = () => {
    if (this.phase === Phase.Busy) this.ended = true;
    else {
      this.phase = Phase.Closing;
      this.socket.end();
    }
  };

  private readonly onClose = () => {
    this.phase = Phase.Closing;
    this.listener.forget(this);
    this.res?.gone();
  };
}
