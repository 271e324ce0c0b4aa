import { openSlowClients, type SlowClients } from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollector, parseConfig, type Collector } from '../src/index.js';
import { quiet } from './helpers.js';

// The collector's HTTP listeners (the http input, the opentelemetry input's shared port and the
// monitoring server) keep the listener limits of every Sprout server: a request head must arrive
// within 10 s (Node's own default is 60 s), so slowloris connections are closed while good requests
// are still served.
const SLOW = 60;

describe('collector HTTP listeners under a slowloris attack', () => {
  let c: Collector;
  beforeAll(async () => {
    c = createCollector(
      parseConfig(`
service: { http_server: on, http_listen: 127.0.0.1, http_port: 0 }
pipeline:
  inputs:
    - { name: http, listen: 127.0.0.1, port: 0, tag: limits.http }
    - { name: opentelemetry, listen: 127.0.0.1, port: 0 }
  outputs:
    - { name: 'null', match: '*' }
`),
      { logger: quiet },
    );
    await c.start();
  });
  afterAll(() => c.close());

  it('closes slow connections at the header timeout and keeps serving good requests', async () => {
    const httpPort = c.inputs()[0]!.address!.port!;
    const otlpPort = c.inputs()[1]!.address!.port!;
    const monitorPort = c.monitorAddress()!.port;
    const slow: SlowClients[] = [];
    try {
      for (const port of [httpPort, otlpPort, monitorPort])
        slow.push(await openSlowClients(port, SLOW, { intervalMs: 500 }));
      // While the slow connections are held, good clients are answered.
      const post = await fetch(`http://127.0.0.1:${httpPort}/limits.http`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"ok":1}',
      });
      expect(post.status).toBe(201);
      const otlp = await fetch(`http://127.0.0.1:${otlpPort}/v1/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"resourceLogs":[]}',
      });
      expect(otlp.status).toBe(201);
      expect((await fetch(`http://127.0.0.1:${monitorPort}/api/v1/health`)).status).toBe(200);

      // Every slow connection is closed by the server (the header timeout), none left open.
      const closed = await Promise.all(slow.map((s) => s.allClosed(20_000)));
      expect(closed).toEqual([true, true, true]);
      for (const s of slow) {
        expect(s.opened).toBe(SLOW);
        expect(s.closed).toBe(SLOW);
        // Node's default would hold them 60 s; the limit closes them at 10 s (checked every second).
        expect(Math.max(...s.lifetimes)).toBeLessThan(20_000);
      }
      expect((await fetch(`http://127.0.0.1:${monitorPort}/api/v1/health`)).status).toBe(200);
    } finally {
      for (const s of slow) s.close();
    }
  }, 40_000);
});
