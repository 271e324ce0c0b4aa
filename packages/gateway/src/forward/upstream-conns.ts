import { connect, type Socket } from 'node:net';

/**
 * How long an idle pooled connection is kept, ms: with the sweep's period at most 4 s, under
 * Node's default server keep-alive timeout (5 s), so the gateway rather than the instance closes
 * it (as undici's default, 4 s). A sweep rather than a socket timeout armed per response.
 */
const IDLE_MS = 3_500;
const SWEEP_MS = 500;

/** Where every pooled connection's reads land before they are copied out (one thread, one at a time). */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * One pooled connection to an instance. The socket's listeners are attached once; the exchange
 * using the connection sets `user` and gets its events.
 */
export interface UpstreamConn {
  readonly socket: Socket;
  /** The pool it belongs to (gives it back). */
  readonly pool: AddressPool;
  /** The connection served a response before (a failure with no byte back may be a stale close). */
  reused: boolean;
  user: ConnUser | undefined;
  /** When it went idle (performance.now()). */
  idleSince: number;
  /** The response-head timer (see `awaitHead`) and its duration. */
  timer: NodeJS.Timeout | undefined;
  timerMs: number;
}

export interface ConnUser {
  data(chunk: Buffer): void;
  /** The connection ended or failed; `err` undefined on a clean end from the instance. */
  closed(err: (Error & { code?: string }) | undefined): void;
  /** The time given to `awaitHead` passed since the user called it (it may have its head by now). */
  headTimeout(): void;
}

/**
 * Starts the wait for the response head of `conn`'s user (its request just went out): after
 * `ms`, the user then gets `headTimeout()`. One timer a connection, refreshed for each request
 * instead of one made and cleared per request; a head that came in time needs no clearing, the
 * user knows it is not waiting (or it is gone and the connection idle).
 */
export function awaitHead(conn: UpstreamConn, ms: number): void {
  if (conn.timer !== undefined && conn.timerMs === ms) conn.timer.refresh();
  else {
    clearTimeout(conn.timer);
    conn.timer = setTimeout(headTimedOut, ms, conn);
    conn.timerMs = ms;
  }
}

function headTimedOut(conn: UpstreamConn): void {
  conn.user?.headTimeout();
}

type Waiter = (err: Error | undefined, conn?: UpstreamConn) => void;

/** Connections to one instance address: idle ones reused last-in first-out, at most `max` open. */
class AddressPool {
  readonly idle: UpstreamConn[] = [];
  open = 0;
  readonly waiters: Waiter[] = [];
  /** Set by `destroy`: connections given back afterwards are closed. */
  closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly max: number,
  ) {}

  acquire(cb: Waiter): void {
    const conn = this.idle.pop();
    if (conn) cb(undefined, conn);
    else if (this.open < this.max) this.connect(cb);
    else this.waiters.push(cb);
  }

  /** Gives a connection back after a complete exchange; `keep` false closes it. */
  release(conn: UpstreamConn, keep: boolean): void {
    conn.user = undefined;
    if (!keep || this.closed || conn.socket.destroyed) {
      conn.socket.destroy();
      return;
    }
    conn.reused = true;
    const next = this.waiters.shift();
    if (next) return next(undefined, conn);
    conn.idleSince = performance.now();
    this.idle.push(conn);
  }

  /** Closes the connections idle since before `before` (the oldest are first in the list). */
  closeIdle(before: number): void {
    let n = 0;
    while (n < this.idle.length && this.idle[n]!.idleSince < before) n++;
    for (const c of this.idle.splice(0, n)) c.socket.destroy();
  }

  private connect(cb: Waiter): void {
    this.open++;
    // Bytes come to a callback rather than through the socket's readable stream (no stream
    // bookkeeping per read); the shared buffer is copied out before the callback returns.
    const socket = connect({
      host: this.host,
      port: this.port,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Uint8Array) => {
          if (!conn.user) {
            socket.destroy(); // an idle connection has nothing to say
            return false;
          }
          const chunk = Buffer.allocUnsafe(n);
          chunk.set(buf.subarray(0, n));
          conn.user.data(chunk);
          return true;
        },
      },
    });
    const conn: UpstreamConn = {
      socket,
      pool: this,
      reused: false,
      user: undefined,
      idleSince: 0,
      timer: undefined,
      timerMs: 0,
    };
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      cb(undefined, conn);
    });
    socket.on('end', () => socket.destroy());
    socket.on('error', () => {}); // reported through 'close'
    socket.on('close', (hadError) => {
      this.open--;
      clearTimeout(conn.timer);
      const i = this.idle.indexOf(conn);
      if (i >= 0) this.idle.splice(i, 1);
      const err = (socket as unknown as { errored?: Error }).errored ?? undefined;
      if (!connected) cb(err ?? new Error('connection closed while connecting'));
      else if (conn.user) {
        const user = conn.user;
        conn.user = undefined;
        user.closed(hadError ? (err ?? new Error('connection failed')) : undefined);
      }
      // a slot opened: the oldest waiter connects
      const next = this.waiters.shift();
      if (next) this.acquire(next);
    });
  }

  destroy(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) c.socket.destroy();
    for (const w of this.waiters.splice(0)) w(new Error('gateway closing'));
  }
}

/** The raw forwarding path's connections, one pool per instance address. */
export class UpstreamConns {
  private readonly pools = new Map<string, AddressPool>();
  private readonly byEndpoint = new WeakMap<object, AddressPool>();
  private readonly sweep: NodeJS.Timeout;

  /** `max`: connections per instance at most; requests beyond wait for a free one. */
  constructor(private readonly max: number) {
    this.sweep = setInterval(() => {
      const before = performance.now() - IDLE_MS;
      for (const p of this.pools.values()) p.closeIdle(before);
    }, SWEEP_MS).unref();
  }

  private pool(inst: { host: string; port: number }): AddressPool {
    // the same endpoint object comes with every request to it: its pool is remembered by it
    const known = this.byEndpoint.get(inst);
    if (known && !known.closed) return known;
    const key = `${inst.host}:${inst.port}`;
    let p = this.pools.get(key);
    if (!p) this.pools.set(key, (p = new AddressPool(inst.host, inst.port, this.max)));
    this.byEndpoint.set(inst, p);
    return p;
  }

  acquire(inst: { host: string; port: number }, cb: Waiter): void {
    this.pool(inst).acquire(cb);
  }

  /** Gives a connection back after a complete exchange; `keep` false closes it. */
  release(conn: UpstreamConn, keep: boolean): void {
    conn.pool.release(conn, keep);
  }

  /** Closes the idle connections of addresses no longer listed (busy ones close after their exchange). */
  prune(live: readonly { host: string; port: number }[]): void {
    const keep = new Set(live.map((i) => `${i.host}:${i.port}`));
    for (const [key, p] of this.pools) {
      if (keep.has(key) || p.open > p.idle.length) continue;
      this.pools.delete(key);
      p.destroy();
    }
  }

  close(): void {
    clearInterval(this.sweep);
    for (const p of this.pools.values()) p.destroy();
    this.pools.clear();
  }
}
