import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { Server as HttpServer } from 'node:http';
import { isSproutError, type ReadBodyOptions } from '@sprout/http';
import { CollectorError } from '../errors.js';
import { ACCEPTED, type InputContext } from '../plugin.js';
import type { CollectorRecord } from '../types.js';

/**
 * Listens (with `backlog` pending connections at most, net.backlog; Node's 511 when unset) and turns
 * bind errors into a coded error naming the address.
 */
export async function listen(
  server: Server | HttpServer,
  field: string,
  target: { port: number; host: string } | { path: string },
  backlog?: number,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const at = 'path' in target ? target.path : `${target.host}:${target.port}`;
      reject(
        new CollectorError(
          'SPROUT_ERR_COLLECTOR_LISTEN',
          `cannot listen on ${at}: ${err.code ?? err.message}`,
          field,
          { cause: err },
        ),
      );
    };
    server.once('error', onError);
    const done = () => {
      server.off('error', onError);
      resolve();
    };
    if ('path' in target) server.listen({ path: target.path, backlog }, done);
    else server.listen({ port: target.port, host: target.host, backlog }, done);
  });
}

/** Closes a server and destroys its open connections. */
export async function closeServer(server: Server | HttpServer, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  if ('closeAllConnections' in server) server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

export function addressOf(server: Server | HttpServer): { host?: string; port?: number; path?: string } {
  const a = server.address();
  if (!a) return {};
  return typeof a === 'string' ? { path: a } : { host: a.address, port: a.port };
}

/**
 * The most connections one stream input (tcp, syslog tcp, mqtt, forward) holds at once; a connection
 * beyond it is closed as it arrives, so idle or slow clients cannot exhaust file descriptors.
 * fluent-bit has no key for it on inputs; SECURITY.md documents it.
 */
export const STREAM_MAX_CONNECTIONS = 1024;

/**
 * A TCP server (TLS with `tls` options, see serverTlsOptions) that tracks its sockets so close() ends
 * them, holding at most STREAM_MAX_CONNECTIONS. `onSocket` gets a TLS socket once its handshake is
 * done; a failed handshake only ends that connection.
 */
export function trackedServer(
  onSocket: (s: Socket) => void,
  tls?: TlsOptions,
): { server: Server; sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  const server = tls ? createTlsServer(tls) : createServer();
  server.maxConnections = STREAM_MAX_CONNECTIONS;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  });
  server.on(tls ? 'secureConnection' : 'connection', (s: Socket) => {
    s.on('error', () => s.destroy());
    onSocket(s);
  });
  if (tls) server.on('tlsClientError', (_err: Error, s: Socket) => s.destroy());
  return { server, sockets };
}

/**
 * Reads a socket with backpressure: `handle` runs for one chunk at a time, and the socket is paused
 * until the promise it returns settles. With nothing in flight, `handle` runs at once, and when it
 * returns nothing or {@link ACCEPTED} the socket reads on without a pause (no turn, no promise).
 */
export function pumpSocket(
  s: Socket,
  handle: (chunk: Buffer) => Promise<void> | void,
  onEnd?: () => Promise<void> | void,
): void {
  let chain: Promise<void> = Promise.resolve();
  let inFlight = 0;
  s.on('data', (chunk: Buffer) => {
    if (inFlight === 0) {
      let r: Promise<void> | void;
      try {
        r = handle(chunk);
      } catch {
        s.destroy();
        return;
      }
      if (r === undefined || r === ACCEPTED) return;
      inFlight++;
      s.pause();
      chain = r
        .catch(() => void s.destroy())
        .finally(() => {
          inFlight--;
          if (inFlight === 0 && !s.destroyed) s.resume();
        });
      return;
    }
    inFlight++;
    if (inFlight > 0) s.pause();
    chain = chain
      .then(() => handle(chunk))
      .catch(() => void s.destroy())
      .finally(() => {
        inFlight--;
        if (inFlight === 0 && !s.destroyed) s.resume();
      });
  });
  s.on('end', () => {
    chain = chain.then(() => onEnd?.()).catch(() => undefined);
  });
}

/**
 * Collects records from datagrams and hands them to `emit` once per event-loop turn: UDP cannot
 * wait for the pipeline, so batching keeps the per-datagram cost low. UDP cannot push back either:
 * when an output's filesystem buffer is full the batch is refused, and its datagrams are counted as
 * dropped (`buffer_full`), never held in memory; so are they while the input is over its
 * `mem_buf_limit` (`mem_buf_limit`: the output is behind, as fluent-bit drops them).
 */
export function datagramBatcher(ctx: Pick<InputContext, 'emit' | 'dropped' | 'overLimit'>) {
  let batch: CollectorRecord[] = [];
  let bytes = 0;
  let datagrams = 0;
  /** Datagrams dropped unread by `skip` since the last turn. */
  let skipped = 0;
  let scheduled = false;
  const turn = () => {
    const [b, sz, count] = [batch, bytes, datagrams];
    batch = [];
    bytes = 0;
    datagrams = 0;
    scheduled = false;
    if (skipped) ctx.dropped(skipped, 'mem_buf_limit');
    skipped = 0;
    if (!b.length) return;
    ctx.emit(b, sz, { ifFull: 'refuse', ifOverLimit: 'refuse' }).catch((err: unknown) => {
      if (isSproutError(err, 'SPROUT_ERR_COLLECTOR_BUFFER_FULL'))
        ctx.dropped(count, err.field === 'mem_buf_limit' ? 'mem_buf_limit' : 'buffer_full');
    });
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(turn);
  };
  const push = (records: CollectorRecord[], n: number) => {
    for (const r of records) batch.push(r);
    bytes += n;
    if (records.length) datagrams++;
    if (batch.length) schedule();
  };
  return Object.assign(push, {
    /**
     * True (and the datagram counted as dropped) while the input is over its `mem_buf_limit`: the
     * caller drops it without decoding, so a stalled output costs no garbage per datagram.
     */
    skip(): boolean {
      if (!ctx.overLimit?.()) return false;
      skipped++;
      schedule();
      return true;
    },
  });
}

/**
 * How an HTTP input reads a request body (`readBody` of @sprout/http): inflated, and refused over
 * `buffer_max_size` with SPROUT_ERR_COLLECTOR_TOO_LARGE. Made once per input, not per request.
 */
export function bodyLimit(limit: number): ReadBodyOptions {
  return {
    limit,
    decompress: true,
    tooLarge: (n) =>
      new CollectorError('SPROUT_ERR_COLLECTOR_TOO_LARGE', `over ${n} bytes`, 'buffer_max_size', {
        status: 413,
      }),
  };
}
