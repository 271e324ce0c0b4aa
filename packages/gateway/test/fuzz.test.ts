import { fuzzHttpServer, seededRng } from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, startRoutedGateway } from './harness.js';

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
    // Requests the gateway itself refuses carry its code; none is a 500 (an unexpected error).
    expect(
      r.seen.filter((x) => x.status === 500),
      `${seed}: internal errors`,
    ).toEqual([]);
    expect(
      r.seen.some((x) => x.status === 400),
      `${seed}: malformed requests are answered 400`,
    ).toBe(true);
    // The function behind the route answers only 200s here, so every refusal is the gateway's own:
    // coded, those of Node's parser included (they were a bare 400).
    expect(
      r.seen.filter((x) => x.status >= 400 && !/x-sprout-error-code: sprout_err_/.test(x.headers)),
      `${seed}: refusals without a code`,
    ).toEqual([]);
    expect(r.seen.length, seed).toBeGreaterThan(r.sent / 2);
    // The gateway, and the function behind it, still serve.
    const after = await get(t.port, '/fn/echo', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'still here',
    });
    expect([after.status, after.body]).toEqual([200, 'still here']);
    expect((await get(t.port, '/nowhere')).status).toBe(404);
  }, 60_000);
});
