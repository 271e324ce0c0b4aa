import {
  askHostless,
  fuzzFindings,
  fuzzHttpServer,
  HOSTLESS_REFUSED,
  rawExchange,
  seededRng,
} from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStateApiServer, MemoryStateStore, type StateApiServer } from '@sprout/state';

// The Dapr state API is fed hostile requests over raw sockets (malformed request lines, bad
// percent-encodings, odd and contradictory headers, garbage and truncated bodies, split at random
// points), with and without its token. Seeded (FUZZ_SEED=<n> replays a run) and time-boxed; a crash
// of the server would end this test process.
const rng = seededRng();
const seed = `FUZZ_SEED=${rng.seed}`;
const TOKEN = 'fuzz-token-'.padEnd(40, 'x');

describe('Dapr state API under hostile requests', () => {
  const store = new MemoryStateStore('fuzzstore');
  let server: StateApiServer;
  let url = '';
  let port = 0;
  beforeAll(async () => {
    server = createStateApiServer({ stores: [store], apiToken: TOKEN });
    ({ url, port } = await server.listen(0));
  });
  afterAll(() => server.close());

  it('answers an HTTP/1.1 request without Host (a fuzz find) with a coded 400, not the bare one of Node, and closes it', async () => {
    expect(await askHostless(port, '/v1.0/state/fuzzstore')).toEqual(HOSTLESS_REFUSED);
    // HTTP/1.0 needs no Host: the API's own answer, the guard's refusal of a Host not its own.
    const old = await rawExchange(port, 'GET /v1.0/healthz HTTP/1.0\r\n\r\n');
    expect(old.status).toBe(403);
    expect(old.text).toContain('"reason":"SPROUT_ERR_HTTP_HOST_NOT_ALLOWED"');
  });

  it('answers every request it can read with a coded status, never a 500; state still works afterwards', async () => {
    const r = await fuzzHttpServer(
      port,
      {
        paths: [
          '/v1.0/state/fuzzstore',
          '/v1.0/state/fuzzstore/k%20ey',
          '/v1.0/state/fuzzstore/bulk',
          '/v1.0/state/fuzzstore/transaction',
          '/v1.0-alpha1/state/fuzzstore/query',
          '/v1.0/state/nostore/k',
          '/v1.0/metadata',
          '/v1.0/healthz',
          '/metrics',
        ],
        good: Buffer.from('[{"key":"fuzzed","value":{"n":1},"etag":"1"}]'),
        headers: [`dapr-api-token: ${TOKEN}`],
        methods: ['POST', 'GET', 'DELETE', 'PUT'],
      },
      { rng, ms: 1500, min: 60 },
    );
    // Node's parser refusals carry the shared code; the API's own refusals are Dapr's JSON errors.
    const f = fuzzFindings(r, /x-sprout-error-code: sprout_err_|content-type: application\/json/);
    expect(f.serverErrors, `${seed}: server errors`).toEqual([]);
    expect(f.uncoded, `${seed}: refusals neither coded nor a Dapr error`).toEqual([]);
    expect(
      r.seen.some((x) => /x-sprout-error-code: sprout_err_http_malformed_request/.test(x.headers)),
      seed,
    ).toBe(true);
    expect(f.statuses.has(400) || f.statuses.has(415), seed).toBe(true);
    expect(f.answeredShare, seed).toBeGreaterThan(0.5);
    const headers = { 'dapr-api-token': TOKEN, 'content-type': 'application/json' };
    const save = await fetch(`${url}/v1.0/state/fuzzstore`, {
      method: 'POST',
      headers,
      body: '[{"key":"after","value":"still here"}]',
    });
    expect(save.status).toBe(204);
    const got = await fetch(`${url}/v1.0/state/fuzzstore/after`, { headers });
    expect(await got.json()).toBe('still here');
    expect((await fetch(`${url}/v1.0/healthz`)).status).toBe(204);
  }, 60_000);
});
