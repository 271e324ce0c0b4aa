import { createServer, type Server, type Socket } from 'node:net';
import { closeServer, listen } from '@sprout/http/testing';
import { createLogger } from '@sprout/observe';
import { afterEach, describe, expect, it } from 'vitest';
import type { BgpMessage } from './message-types.js';
import { BgpParser, encodeMessage } from './messages.js';
import { BgpSession } from './session.js';

// Misbehaving peers on loopback: the session must refuse clearly, keep its routes, and reconnect.
const quiet = createLogger({ level: 'silent' });
const open = (as = 65000, hold = 3): BgpMessage => ({
  type: 'open',
  version: 4,
  myAs: as,
  holdTime: hold,
  bgpId: '10.0.0.1',
  capabilities: [
    { code: 1, afi: 1, safi: 1 },
    { code: 65, as },
  ],
});

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function peer(
  onConnection: (s: Socket, received: BgpMessage[]) => void,
): Promise<{ port: number; server: Server; received: BgpMessage[] }> {
  const received: BgpMessage[] = [];
  const server = createServer((s) => {
    const parser = new BgpParser();
    s.on('data', (d: Buffer) => {
      try {
        received.push(...parser.push(d));
      } catch {
        // the peer under test is the one misbehaving
      }
    });
    s.on('error', () => {});
    onConnection(s, received);
  });
  const port = await listen(server);
  cleanup.push(() => closeServer(server));
  return { port, server, received };
}

function session(port: number, extra: Partial<ConstructorParameters<typeof BgpSession>[0]> = {}) {
  const s = new BgpSession({
    localAs: 65010,
    routerId: '10.0.0.2',
    peerAs: 65000,
    address: '127.0.0.1',
    port,
    connectRetry: 0.05,
    holdTime: 9,
    logger: quiet,
    ...extra,
  });
  const downs: string[] = [];
  s.on('down', (r: string) => downs.push(r));
  cleanup.push(() => s.close());
  return { s, downs };
}

describe('BgpSession with misbehaving peers', () => {
  it('answers garbage with a NOTIFICATION naming the header error, then reconnects', async () => {
    let connections = 0;
    const p = await peer((sock) => {
      connections++;
      sock.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    });
    const { s, downs } = session(p.port);
    s.announce('198.51.100.1');
    s.start();
    await expect.poll(() => connections, { timeout: 5000 }).toBeGreaterThan(1);
    expect(downs[0]).toMatch(/marker is not all ones \(at byte 0; NOTIFICATION 1\/1\)/);
    await expect
      .poll(() => p.received.some((m) => m.type === 'notification' && m.code === 1 && m.subcode === 1), {
        timeout: 5000,
      })
      .toBe(true);
    expect(s.stats.errors).toBeGreaterThan(0);
  });

  it('survives a peer that closes in the middle of its OPEN', async () => {
    let connections = 0;
    const p = await peer((sock) => {
      connections++;
      const b = encodeMessage(open());
      sock.end(b.subarray(0, 25));
    });
    const { s, downs } = session(p.port);
    s.start();
    await expect.poll(() => connections, { timeout: 5000 }).toBeGreaterThan(2);
    expect(downs[0]).toBe('connection closed by peer');
    expect(s.state).not.toBe('established');
  });

  it('refuses a peer with the wrong AS (OPEN error 2/2)', async () => {
    const p = await peer((sock) => sock.write(encodeMessage(open(64999))));
    const { s, downs } = session(p.port);
    s.start();
    await expect.poll(() => downs[0], { timeout: 5000 }).toBe('peer AS is 64999, expected 65000');
    await expect
      .poll(() => p.received.some((m) => m.type === 'notification' && m.code === 2 && m.subcode === 2), {
        timeout: 5000,
      })
      .toBe(true);
  });

  it('establishes, sends its routes, keeps alive, and drops on hold timer expiry', async () => {
    const p = await peer((sock) => {
      sock.write(encodeMessage(open(65000, 3)));
      sock.write(encodeMessage({ type: 'keepalive' }));
      // ... then silence: no KEEPALIVE ever again.
    });
    const { s, downs } = session(p.port);
    s.announce('198.51.100.1');
    s.start();
    await new Promise((r) => s.once('established', r));
    await expect
      .poll(() => p.received.find((m) => m.type === 'update'), { timeout: 5000 })
      .toMatchObject({
        nlri: [{ prefix: '198.51.100.1', length: 32 }],
        asPath: [65010],
        nextHop: '127.0.0.1',
      });
    const firstOpen = p.received.find((m) => m.type === 'open');
    expect(firstOpen).toMatchObject({ myAs: 65010, holdTime: 9, bgpId: '10.0.0.2' });
    await expect.poll(() => downs[0], { timeout: 6000 }).toBe('hold timer expired');
    // What the session wrote is read by the peer in a later turn of the event loop: on a loaded
    // machine the check above can run in the same turn as the hold timer, before the NOTIFICATION is read.
    await expect
      .poll(() => p.received.some((m) => m.type === 'notification' && m.code === 4), { timeout: 5000 })
      .toBe(true);
    expect(p.received.filter((m) => m.type === 'keepalive').length).toBeGreaterThanOrEqual(2);
    // It reconnects (backoff), the peer accepts again, and the routes are sent again in the new session.
    await expect
      .poll(() => p.received.filter((m) => m.type === 'update').length, { timeout: 5000 })
      .toBeGreaterThanOrEqual(2);
    expect(s.advertised()).toEqual(['198.51.100.1']);
  });
});
