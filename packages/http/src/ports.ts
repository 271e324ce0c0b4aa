import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP port that was free a moment ago on `host` (for peers that must be told their port up
 * front). Another process can take it before it is used; callers that can should listen on 0.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, host, resolve);
  });
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}
