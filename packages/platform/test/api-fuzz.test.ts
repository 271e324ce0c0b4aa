import { request } from 'node:http';
import {
  askHostless,
  fuzzFindings,
  fuzzHttpServer,
  HOSTLESS_REFUSED,
  rawExchange,
  seededRng,
} from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, type Harness } from './helpers.js';

// The platform API is fed hostile requests over raw sockets (malformed request lines, bad
// percent-encodings, odd and contradictory headers, garbage and truncated bodies, split at random
// points), most of them with the token so they reach the routes. Seeded (FUZZ_SEED=<n> replays a
// run) and time-boxed. A crash of the server would end this test process.
const rng = seededRng();
const seed = `FUZZ_SEED=${rng.seed}`;

/** A raw request (no URL parsing on the client side), as an attacker's client sends it. */
function raw(port: number, path: string, headers: Record<string, string>): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve([res.statusCode!, String(res.headers['x-sprout-error-code'])]));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('platform API under hostile requests', () => {
  let h: Harness;
  let port = 0;
  beforeAll(async () => {
    h = await harness(['echo']);
    port = Number(new URL(h.api.url).port);
  });
  afterAll(() => h.close());

  it('a request target no URL parser takes (//[, *) is a coded answer, not a crash', async () => {
    // `//[` ended the process (an uncaught Invalid URL); a target is now read as a path only.
    for (const path of ['//[', '//[::1/v1/functions', '//evil.example/v1/health']) {
      const [status, code] = await raw(port, path, { authorization: `Bearer ${h.api.token}` });
      expect([path, status, code]).toEqual([path, 404, 'SPROUT_ERR_PLATFORM_NO_ROUTE']);
    }
    const [status, code] = await raw(port, '*', { authorization: `Bearer ${h.api.token}` });
    expect([status, code]).toEqual([400, 'SPROUT_ERR_PLATFORM_INVALID_REQUEST']);
    expect((await h.get('/v1/health')).status).toBe(200);
  });

  it('an HTTP/1.1 request without Host (a fuzz find) is a coded 400, not the bare one of Node, and closed', async () => {
    expect(await askHostless(port, '/v1/functions/echo/invoke')).toEqual(HOSTLESS_REFUSED);
    // HTTP/1.0 needs no Host: the API's own answer, the guard's refusal of a Host not its own.
    const old = await rawExchange(port, 'GET /v1/health HTTP/1.0\r\n\r\n');
    expect([old.status, old.headers['x-sprout-error-code']]).toEqual([
      403,
      'SPROUT_ERR_HTTP_HOST_NOT_ALLOWED',
    ]);
    expect((await h.get('/v1/health')).status).toBe(200);
  });

  it('answers every request it can read with a coded status, never an internal error; good calls work afterwards', async () => {
    const r = await fuzzHttpServer(
      port,
      {
        paths: [
          '/v1/functions',
          '/v1/functions/echo',
          '/v1/functions/echo/invoke',
          '/v1/functions/echo/scale',
          '/v1/functions/%2e%2e/logs',
          '/v1/health',
          '/v1/events',
          '/metrics',
          '/v1/eip/apply',
        ],
        good: Buffer.from('{"replicas":1}'),
        headers: [`authorization: Bearer ${h.api.token}`],
        methods: ['POST', 'GET', 'PUT', 'DELETE'],
      },
      { rng, ms: 1500, min: 60 },
    );
    const f = fuzzFindings(r);
    expect(f.serverErrors, `${seed}: server errors`).toEqual([]);
    expect(f.uncoded, `${seed}: refusals without a code`).toEqual([]);
    expect(f.statuses.has(400), seed).toBe(true);
    expect(f.answeredShare, seed).toBeGreaterThan(0.5);
    expect((await h.get('/v1/health')).status).toBe(200);
    const fns = await h.get('/v1/functions');
    expect(fns.status).toBe(200);
    // The fuzzer may legitimately have deregistered echo (DELETE with the token): the list answers.
    expect(Array.isArray((fns.body as { functions?: unknown }).functions), seed).toBe(true);
  }, 60_000);
});
