import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, startCapture, waitFor } from './helpers.js';

// Real peer: curl.
describe('http input with curl', () => {
  let h: Awaited<ReturnType<typeof startCapture>>;
  beforeAll(async () => {
    h = await startCapture(`
service: { flush: 0.05 }
pipeline:
  inputs:
    - name: http
      listen: 127.0.0.1
      port: 0
      tag: http.default
      buffer_max_size: 1K
      success_header: [X-Collector sprout, X-Other two words]
    - name: http
      listen: 127.0.0.1
      port: 0
      tag_key: route
      successful_response_code: 200
  outputs:
    - name: stdout
      match: '*'
`);
  });
  afterAll(() => h.c.close());

  const curl = async (port: number, path: string, args: string[]) => {
    const { stdout } = await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-D',
      '-',
      '-w',
      '%{http_code}',
      ...args,
      `http://127.0.0.1:${port}${path}`,
    ]);
    return { status: Number(stdout.slice(-3)), headers: stdout.slice(0, -3) };
  };
  const bodies = (tag: string) =>
    (h.got.get('stdout.0') ?? []).filter((r) => r.tag === tag).map((r) => r.body);

  it('takes a JSON object and an array; the tag comes from the path; 201 with success headers', async () => {
    const r1 = await curl(h.port(0), '/app.web', [
      '-H',
      'content-type: application/json',
      '-d',
      '{"msg":"one"}',
    ]);
    expect(r1.status).toBe(201);
    expect(r1.headers).toMatch(/x-collector: sprout/i);
    expect(r1.headers).toMatch(/x-other: two words/i);
    expect(
      (
        await curl(h.port(0), '/app.web', [
          '-H',
          'content-type: application/json',
          '-d',
          '[{"msg":"two"},{"msg":"three"}]',
        ])
      ).status,
    ).toBe(201);
    await waitFor(() => bodies('app.web').length === 3);
    expect(bodies('app.web')).toEqual([{ msg: 'one' }, { msg: 'two' }, { msg: 'three' }]);
  });

  it('takes form bodies, gzip bodies, and uses the input tag for /', async () => {
    expect((await curl(h.port(0), '/', ['-d', 'a=1&b=two%20words'])).status).toBe(201);
    const gz = gzipSync('{"zipped":true}');
    const { stdout } = await run('bash', [
      '-c',
      `printf '%s' "$0" | base64 -d | curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' -H 'content-encoding: gzip' --data-binary @- http://127.0.0.1:${h.port(0)}/`,
      gz.toString('base64'),
    ]);
    expect(stdout).toBe('201');
    await waitFor(() => bodies('http.default').length === 2);
    expect(bodies('http.default')).toEqual([{ a: '1', b: 'two words' }, { zipped: true }]);
  });

  it('tag_key sets the tag per record; successful_response_code is honoured', async () => {
    const r = await curl(h.port(1), '/', [
      '-H',
      'content-type: application/json',
      '-d',
      '[{"route":"x.a","n":1},{"route":"x.b","n":2},{"n":3}]',
    ]);
    expect(r.status).toBe(200);
    await waitFor(() => bodies('x.b').length === 1);
    expect(bodies('x.a')).toEqual([{ route: 'x.a', n: 1 }]);
    expect(bodies('http.1')).toEqual([{ n: 3 }]);
  });

  it('answers 413 over buffer_max_size, 400 for bad JSON or content type, 405 for GET; nothing is emitted', async () => {
    const before = h.got.get('stdout.0')?.length ?? 0;
    expect(
      (
        await curl(h.port(0), '/big', [
          '-H',
          'content-type: application/json',
          '-d',
          JSON.stringify({ x: 'y'.repeat(2000) }),
        ])
      ).status,
    ).toBe(413);
    expect(
      (await curl(h.port(0), '/bad', ['-H', 'content-type: application/json', '-d', '{"x":'])).status,
    ).toBe(400);
    expect(
      (await curl(h.port(0), '/bad', ['-H', 'content-type: application/json', '-d', '[1,2]'])).status,
    ).toBe(400);
    expect((await curl(h.port(0), '/bad', ['-H', 'content-type: text/plain', '-d', 'hi'])).status).toBe(400);
    expect((await curl(h.port(0), '/bad', [])).status).toBe(405);
    await h.c.flush();
    expect(h.got.get('stdout.0')?.length ?? 0).toBe(before);
    const metrics = await h.c.metrics.metrics();
    expect(metrics).toMatch(/collector_input_rejected_total\{input="http.0",reason="too_large"\} 1/);
    expect(metrics).toMatch(/collector_input_rejected_total\{input="http.0",reason="invalid_body"\} 3/);
  });
});
