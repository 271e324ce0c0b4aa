import {
  askHostless,
  fuzzFindings,
  fuzzHttpServer,
  HOSTLESS_REFUSED,
  rawExchange,
  seededRng,
} from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, startGateway, startRoutedGateway } from './harness.js';

// The gateway is fed hostile requests over raw sockets (malformed request lines, bad
// percent-encodings, odd and contradictory headers, garbage and truncated bodies, split at random
// points), routed and unrouted. Seeded (FUZZ_SEED=<n> replays a run) and time-boxed.
const rng = seededRng();
const seed = `FUZZ_SEED=${rng.seed}`;

describe('gateway under hostile requests', () => {
  let t: Awaited<ReturnType<typeof startRoutedGateway>>;

  beforeAll(async () => {
    t = await startRoutedGateway('fuzz-fn');
  }, 30_000);
  afterAll(() => t.close());

  it('answers or closes every request, never with an internal error, and serves a good request afterwards', async () => {
    const r = await fuzzHttpServer(
      t.port,
      {
        paths: ['/fn/echo', '/fn/', '/fn/a%20b?x=1', '/nowhere', '/'],
        good: Buffer.from('{"hello":"world"}'),
        methods: ['POST', 'GET', 'PUT'],
      },
      { rng, ms: 1500, min: 60 },
    );
    // The function behind the route answers only 200s here, so every refusal is the gateway's own:
    // coded, those of Node's parser included (they were a bare 400), and none a 5xx.
    const f = fuzzFindings(r);
    expect(f.serverErrors, `${seed}: server errors`).toEqual([]);
    expect(f.uncoded, `${seed}: refusals without a code`).toEqual([]);
    expect(f.statuses.has(400), `${seed}: malformed requests are answered 400`).toBe(true);
    expect(f.answeredShare, seed).toBeGreaterThan(0.5);
    // The gateway, and the function behind it, still serve.
    const after = await get(t.port, '/fn/echo', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'still here',
    });
    expect([after.status, after.body]).toEqual([200, 'still here']);
    expect((await get(t.port, '/nowhere')).status).toBe(404);
  }, 60_000);

  it('answers an HTTP/1.1 request without Host (a fuzz find) with a coded 400, not the bare one of Node, and closes it', async () => {
    // The raw listener takes it for no simple request and hands it to node:http, which refuses it.
    expect(await askHostless(t.port, '/fn/echo')).toEqual(HOSTLESS_REFUSED);
    const get11 = await rawExchange(t.port, 'GET /fn/echo HTTP/1.1\r\n\r\n');
    expect([get11.status, get11.headers['x-sprout-error-code']]).toEqual([400, HOSTLESS_REFUSED.code]);
    // HTTP/1.0 needs no Host: forwarded to the function (as HTTP/1.1, so with an empty Host; the
    // function's node:http refused it with a bare 400 before), with a body and without.
    const old = await rawExchange(t.port, 'POST /fn/echo HTTP/1.0\r\ncontent-length: 2\r\n\r\nhi');
    expect([old.status, old.text.slice(-4)]).toEqual([200, '\r\nhi']);
    expect((await rawExchange(t.port, 'GET /fn/echo HTTP/1.0\r\n\r\n')).status).toBe(200);
    // The node:http listener alone: the same.
    const node = await startGateway({ listener: 'node' });
    try {
      expect(await askHostless(node.port, '/fn/echo')).toEqual(HOSTLESS_REFUSED);
      const none = await rawExchange(node.port, 'GET /nowhere HTTP/1.0\r\n\r\n');
      expect([none.status, none.headers['x-sprout-error-code']]).toEqual([
        404,
        'SPROUT_ERR_GATEWAY_NO_ROUTE',
      ]);
    } finally {
      await node.gw.close();
    }
  });
});
