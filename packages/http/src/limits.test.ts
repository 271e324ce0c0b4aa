import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { applyServerLimits, resolveServerLimits, SERVER_LIMIT_DEFAULTS } from './limits.js';
import { closeServer, listen, openSlowClients, type SlowClients } from './testing.js';

let server: Server | undefined;
let slow: SlowClients | undefined;
afterEach(async () => {
  slow?.close();
  slow = undefined;
  if (server) await closeServer(server);
  server = undefined;
});

/** One request on a fresh connection; resolves with the status, or 0 when the connection failed. */
function get(port: number, path = '/'): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

describe('applyServerLimits', () => {
  it('closes 2,000 slowloris connections within the header timeout while serving good requests', async () => {
    server = createServer((_req, res) => res.end('ok'));
    const limits = applyServerLimits(server);
    expect(limits.headersTimeoutMs).toBe(SERVER_LIMIT_DEFAULTS.headersTimeoutMs);
    const port = await listen(server);
    slow = await openSlowClients(port, 2_000, { intervalMs: 2_000 });
    expect(slow.opened).toBe(2_000);
    const statuses: number[] = [];
    const deadline = Date.now() + 25_000;
    let done = false;
    const closedAll = slow.allClosed(25_000).then((ok) => (done = ok));
    while (!done && Date.now() < deadline) {
      statuses.push(await get(port));
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await closedAll).toBe(true);
    expect(slow.closed).toBe(2_000);
    // Closed by the 10 s header timeout (checked every second), with slack for a busy machine.
    expect(Math.min(...slow.lifetimes)).toBeGreaterThan(SERVER_LIMIT_DEFAULTS.headersTimeoutMs - 1_000);
    expect(Math.max(...slow.lifetimes)).toBeLessThan(20_000);
    expect(statuses.length).toBeGreaterThan(5);
    expect(statuses.every((s) => s === 200)).toBe(true);
  }, 60_000);

  it('makes room at the connection cap by evicting the oldest connection still sending its head', async () => {
    // Good requests are answered once all five are in, so each holds its connection meanwhile.
    const held: (() => void)[] = [];
    server = createServer((_req, res) => {
      held.push(() => res.end('ok'));
      if (held.length === 5) for (const release of held) release();
    });
    applyServerLimits(server, { maxConnections: 20 });
    const port = await listen(server);
    slow = await openSlowClients(port, 20, { intervalMs: 1_000 });
    // Five good requests at once push five slow connections out.
    expect(await Promise.all(Array.from({ length: 5 }, () => get(port)))).toEqual([200, 200, 200, 200, 200]);
    await new Promise((r) => setTimeout(r, 200));
    expect(slow.closed).toBeGreaterThanOrEqual(5);
    expect(slow.lifetimes.every((ms) => ms < 5_000)).toBe(true);
  }, 30_000);

  it('refuses a connection over the cap when every open one is busy with a request', async () => {
    const held: (() => void)[] = [];
    let holding = true;
    server = createServer((_req, res) => (holding ? held.push(() => res.end('ok')) : res.end('ok')));
    applyServerLimits(server, { maxConnections: 3 });
    const port = await listen(server);
    const busy = [get(port), get(port), get(port)];
    while (held.length < 3) await new Promise((r) => setTimeout(r, 20));
    expect(await get(port)).toBe(0);
    for (const release of held.splice(0)) release();
    holding = false;
    expect(await Promise.all(busy)).toEqual([200, 200, 200]);
    expect(await get(port)).toBe(200);
  }, 30_000);

  it('answers 408 and closes a connection whose head does not arrive in time', async () => {
    server = createServer((_req, res) => res.end('ok'));
    applyServerLimits(server, { headersTimeoutMs: 1_500 });
    const port = await listen(server);
    const answer = await new Promise<string>((resolve) => {
      let got = '';
      const s = connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nhost: x\r\n'));
      s.on('data', (d: Buffer) => (got += d.toString()));
      s.on('close', () => resolve(got));
    });
    expect(answer.startsWith('HTTP/1.1 408')).toBe(true);
  }, 30_000);

  it('refuses values that are not positive whole numbers, naming the option', () => {
    const bad = [0, -1, 1.5, Number.NaN, Infinity, 2 ** 60];
    for (const key of Object.keys(SERVER_LIMIT_DEFAULTS) as (keyof typeof SERVER_LIMIT_DEFAULTS)[]) {
      for (const v of bad)
        expect(() => resolveServerLimits({ [key]: v })).toThrow(
          expect.objectContaining({ code: 'SPROUT_ERR_HTTP_INVALID_LIMIT', field: key }),
        );
      expect(resolveServerLimits({ [key]: 7 })[key]).toBe(7);
    }
  });
});
