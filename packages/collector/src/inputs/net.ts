import { createServer, type Server, type Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { CollectorError } from '../errors.js';

/** Listens and turns bind errors into a coded error naming the address. */
export async function listen(
  server: Server | HttpServer,
  where: string,
  target: { port: number; host: string } | { path: string },
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const at = 'path' in target ? target.path : `${target.host}:${target.port}`;
      reject(
        new CollectorError(
          'SPROUT_ERR_COLLECTOR_LISTEN',
          `cannot listen on ${at}: ${err.code ?? err.message}`,
          where,
          { cause: err },
        ),
      );
    };
    server.once('error', onError);
    const done = () => {
      server.off('error', onError);
      resolve();
    };
    if ('path' in target) server.listen(target.path, done);
    else server.listen(target.port, target.host, done);
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

/** A TCP server that tracks its sockets so close() ends them. */
export function trackedServer(onSocket: (s: Socket) => void): { server: Server; sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    onSocket(s);
  });
  return { server, sockets };
}

/**
 * Reads a socket with backpressure: `handle` runs for one chunk at a time, and the socket is paused
 * until the promise it returns settles.
 */
export function pumpSocket(
  s: Socket,
  handle: (chunk: Buffer) => Promise<void> | void,
  onEnd?: () => Promise<void> | void,
): void {
  let chain: Promise<void> = Promise.resolve();
  let inFlight = 0;
  s.on('data', (chunk: Buffer) => {
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
