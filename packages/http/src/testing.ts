import type { AddressInfo, Server as NetServer } from 'node:net';

export { freePort } from './ports.js';

/** Something with Node's `listen`/`close` (an http, https, net or http2 server). */
type Listenable = Pick<NetServer, 'listen' | 'address' | 'once' | 'close'>;

/** Listens on port 0 of `host` and resolves with the port the OS picked. */
export async function listen(server: Listenable, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Closes a server, dropping its open connections first (http servers keep idle keep-alive sockets). */
export function closeServer(server: Listenable & { closeAllConnections?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

export { openSlowClients, type SlowClients } from './slow-clients.js';
export {
  fuzzFindings,
  type FuzzAnswer,
  fuzzHttpServer,
  type FuzzFindings,
  type FuzzResult,
  type FuzzTarget,
} from './http-fuzz.js';
export { seededRng, type Rng } from './rng.js';
export {
  askHostless,
  HOSTLESS_REFUSED,
  hostlessRequest,
  rawExchange,
  type RawAnswer,
} from './raw-exchange.js';
