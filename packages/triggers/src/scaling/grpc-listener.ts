import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Server } from '@grpc/grpc-js';
import { ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { TriggersError } from '../errors.js';

/** The bounds of a Sprout gRPC listener (the MQTT scaler's); each has a default (`GRPC_LIMIT_DEFAULTS`). */
export interface GrpcLimits {
  /**
   * Open connections at most. A connection over the cap evicts the oldest one with no call in
   * progress (never sent a whole request, or idle between calls); when every one is busy, the new
   * one is closed at once.
   */
  maxConnections?: number;
  /** Largest request message, bytes; over it the call fails with RESOURCE_EXHAUSTED. */
  maxMessageBytes?: number;
  /** Concurrent calls on one connection (HTTP/2 streams). */
  maxStreamsPerConnection?: number;
  /**
   * A connection with no call in progress that sends and receives nothing for this long is closed,
   * ms (a silent client, a stalled handshake, a request never finished).
   */
  idleTimeoutMs?: number;
  /** A unary call is answered within this, ms, else DEADLINE_EXCEEDED. */
  callTimeoutMs?: number;
  /** A server stream (StreamIsActive) ends cleanly after this, ms; KEDA opens it again at once. */
  streamMaxMs?: number;
}

export const GRPC_LIMIT_DEFAULTS: Required<GrpcLimits> = {
  maxConnections: 64,
  maxMessageBytes: 64 * 1024,
  maxStreamsPerConnection: 100,
  idleTimeoutMs: 60_000,
  callTimeoutMs: 10_000,
  streamMaxMs: 5 * 60_000,
};

/**
 * TLS for a gRPC listener, in PEM: the server's certificate and key, and with `clientCa` the CA
 * whose client certificates alone are let in (mutual TLS, KEDA's `tlsClientCert`/`tlsClientKey`).
 */
export interface GrpcTls {
  cert: string | Buffer;
  key: string | Buffer;
  clientCa?: string | Buffer;
}

/** Fills in defaults and checks every value is a positive whole number (`field` names the one at fault). */
export function resolveGrpcLimits(limits: GrpcLimits = {}): Required<GrpcLimits> {
  const l = { ...GRPC_LIMIT_DEFAULTS };
  for (const key of Object.keys(GRPC_LIMIT_DEFAULTS) as (keyof GrpcLimits)[]) {
    const v = limits[key];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v <= 0)
      throw new TriggersError(
        'SPROUT_ERR_TRIGGERS_SCALER_INVALID',
        `${key} must be a whole number > 0, not ${v}`,
        {
          field: key,
        },
      );
    l[key] = v;
  }
  return l;
}

/** The grpc-js options that carry the limits it enforces itself. */
export function grpcServerOptions(l: Required<GrpcLimits>): ChannelOptions {
  return {
    'grpc.max_receive_message_length': l.maxMessageBytes,
    'grpc.max_concurrent_streams': l.maxStreamsPerConnection,
    // grpc-js' own idle close (a session with no call) backs up the socket's; its keepalive pings
    // close a connection whose peer stopped answering, in a call or not.
    'grpc.max_connection_idle_ms': 2 * l.idleTimeoutMs,
    // Pings come less often than the idle timeout, so they never keep a connection with no call open.
    'grpc.keepalive_time_ms': 2 * l.idleTimeoutMs,
    'grpc.keepalive_timeout_ms': Math.max(1, Math.floor(l.idleTimeoutMs / 3)),
  };
}

/**
 * A grpc-js server behind a `node:net` listener Sprout owns (grpc-js has no connection cap): each
 * accepted socket is counted, timed out when idle and handed to grpc-js, which speaks TLS on it
 * when `tls` is given. `callStarted`/`callEnded` (by `call.getPeer()`) tell which connections are busy.
 */
export class GrpcListener {
  private readonly open = new Map<string, { socket: Socket; calls: number }>();

  private constructor(
    private readonly net: NetServer,
    readonly port: number,
  ) {}

  static async listen(
    server: Server,
    o: { host: string; port: number; limits: Required<GrpcLimits>; tls?: GrpcTls; what: string },
  ): Promise<GrpcListener> {
    const credentials = o.tls
      ? ServerCredentials.createSsl(
          o.tls.clientCa ? Buffer.from(o.tls.clientCa) : null,
          [{ cert_chain: Buffer.from(o.tls.cert), private_key: Buffer.from(o.tls.key) }],
          Boolean(o.tls.clientCa),
        )
      : ServerCredentials.createInsecure();
    const injector = server.createConnectionInjector(credentials);
    const ref: { self?: GrpcListener } = {};
    const net = createServer({ noDelay: true }, (socket) => ref.self!.accept(socket, o.limits, injector));
    const port = await new Promise<number>((resolve, reject) => {
      net.once('error', (err) =>
        reject(
          new TriggersError(
            'SPROUT_ERR_TRIGGERS_PORT_IN_USE',
            `${o.what} cannot listen on ${o.host}:${o.port}: ${err.message}`,
            { cause: err },
          ),
        ),
      );
      net.listen(o.port, o.host, () => resolve((net.address() as { port: number }).port));
    });
    return (ref.self = new GrpcListener(net, port));
  }

  /** A call began on the connection `peer` (`call.getPeer()`): it is not evicted while calls run. */
  callStarted(peer: string): void {
    const c = this.open.get(peer);
    if (c) c.calls++;
  }

  callEnded(peer: string): void {
    const c = this.open.get(peer);
    if (c && c.calls > 0) c.calls--;
  }

  /** Connections open now. */
  get connections(): number {
    return this.open.size;
  }

  /** Stops accepting and closes every connection. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.net.close(() => resolve());
      for (const { socket } of this.open.values()) socket.destroy();
    });
  }

  private accept(
    socket: Socket,
    l: Required<GrpcLimits>,
    injector: { injectConnection(s: Socket): void },
  ): void {
    if (this.open.size >= l.maxConnections && !this.evictOne()) return void socket.destroy();
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    this.open.set(key, { socket, calls: 0 });
    socket.once('close', () => this.open.delete(key));
    socket.on('error', () => undefined);
    // Idle: no bytes either way. A connection in a call (a quiet StreamIsActive) is left to the
    // call's own limits and grpc-js' keepalive pings, which close it if the peer is gone.
    socket.setTimeout(l.idleTimeoutMs);
    socket.on('timeout', () => {
      if ((this.open.get(key)?.calls ?? 0) > 0) socket.setTimeout(l.idleTimeoutMs);
      else socket.destroy();
    });
    injector.injectConnection(socket);
  }

  /** Closes the oldest connection with no call in progress; false when every one is busy. */
  private evictOne(): boolean {
    for (const [key, c] of this.open)
      if (c.calls === 0) {
        this.open.delete(key);
        c.socket.destroy();
        return true;
      }
    return false;
  }
}
