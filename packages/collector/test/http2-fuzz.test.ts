import { connect as connectH2, constants } from 'node:http2';
import { gzipSync } from 'node:zlib';
import { seededRng } from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcess, type CollectorProcess } from './helpers.js';

// The http input's HTTP/2 side (h2c with prior knowledge on its port, with add_remote_addr and the
// health endpoint on) fed hostile requests: random methods, paths, content types, encodings,
// X-Forwarded-For values and bodies, streams cancelled mid-body. The collector runs in a child
// process so a crash is seen as the process gone. Seeded (FUZZ_SEED=<n> replays) and time-boxed.
const rng = seededRng();
const seed = `FUZZ_SEED=${rng.seed}`;
const FUZZ_MS = 1500;

describe('http input over HTTP/2 under hostile requests', () => {
  let p: CollectorProcess;
  let port = 0;
  beforeAll(async () => {
    p = await startProcess(`
pipeline:
  inputs:
    - { name: http, listen: 127.0.0.1, port: 0, buffer_max_size: 4K, add_remote_addr: on, enable_health_endpoint: on, tag_key: t }
  outputs:
    - { name: 'null', match: '*' }
`);
    port = p.inputs[0]!.address.port!;
  });
  afterAll(async () => {
    expect(await p?.stop()).toBe(0);
  });

  /** One request on a fresh session; resolves with the status (0: no answer, e.g. reset). */
  const oneRequest = (headers: Record<string, string>, body: Buffer, how: number) =>
    new Promise<number>((resolve) => {
      const session = connectH2(`http://127.0.0.1:${port}`);
      session.on('error', () => resolve(0));
      const timer = setTimeout(() => {
        session.destroy();
        resolve(0);
      }, 500);
      let status = 0;
      let req;
      try {
        req = session.request(headers);
      } catch {
        clearTimeout(timer);
        session.destroy();
        return resolve(0);
      }
      req.on('error', () => undefined);
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('close', () => {
        clearTimeout(timer);
        session.close();
        resolve(status);
      });
      req.resume();
      if (how === 0) {
        req.write(body.subarray(0, body.length >> 1));
        req.close(constants.NGHTTP2_CANCEL);
      } else req.end(body);
    });

  it('answers every request it can with a status, never crashes, and serves a good request afterwards', async () => {
    const statuses = new Map<number, number>();
    const end = Date.now() + FUZZ_MS;
    let n = 0;
    while (Date.now() < end || n < 60) {
      const json = rng.pick([
        '{"msg":"x","t":"fuzz.tag"}',
        '[{"a":1},{"b":2}]',
        '{"t":5}',
        '[1,2]',
        '{"x":',
        '',
      ]);
      const body = rng.pick([
        () => Buffer.from(json),
        () => gzipSync(json),
        () => rng.bytes(rng.int(0, 600)),
        () => Buffer.from('a=1&b=' + 'x'.repeat(rng.int(0, 6000))),
      ])();
      const headers: Record<string, string> = {
        ':method': rng.pick(['POST', 'POST', 'POST', 'GET', 'PUT', 'HEAD']),
        ':path': rng.pick([
          '/',
          '/app.web',
          '/health',
          '/%',
          '/%zz',
          '/a/../b',
          '/' + 'p'.repeat(rng.int(1, 5000)),
        ]),
        'content-type': rng.pick([
          'application/json',
          'application/x-www-form-urlencoded',
          'text/plain',
          'application/json; charset=utf-8',
          '',
        ]),
      };
      if (rng.next() < 0.3) headers['content-encoding'] = rng.pick(['gzip', 'deflate', 'br']);
      if (rng.next() < 0.4)
        headers['x-forwarded-for'] = rng.pick(['host1, host2', '', ' , ', 'x'.repeat(rng.int(1, 3000))]);
      const results = await Promise.all(
        Array.from({ length: 4 }, () => oneRequest(headers, body, rng.int(0, 4))),
      );
      for (const s of results) statuses.set(s, (statuses.get(s) ?? 0) + 1);
      n++;
    }
    expect(p.alive(), `${seed}: the collector process died:\n${p.stderr().slice(-3000)}`).toBe(true);
    expect(p.stderr(), `${seed}: an unexpected error while handling a request`).not.toContain(
      '"reason":"internal"',
    );
    expect(statuses.get(500) ?? 0, `${seed}: answered 500`).toBe(0);
    // No process warning either (an HTTP/1-only header given to an HTTP/2 response is one).
    expect(p.stderr(), `${seed}: a process warning`).not.toMatch(/Warning/);
    // Most requests were answered (a cancelled one may not be).
    const answered = [...statuses].filter(([s]) => s > 0).reduce((a, [, c]) => a + c, 0);
    expect(answered, `${seed}: ${JSON.stringify([...statuses])}`).toBeGreaterThan(n);
    expect(
      await oneRequest(
        { ':method': 'POST', ':path': '/ok', 'content-type': 'application/json' },
        Buffer.from('{"ok":1}'),
        1,
      ),
    ).toBe(201);
  }, 30_000);
});
