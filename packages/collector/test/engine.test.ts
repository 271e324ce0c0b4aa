import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createCollector, parseConfig } from '../src/index.js';
import { quiet, sink, startCapture, waitFor } from './helpers.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

describe('engine', () => {
  it('routes by Match wildcards and Match_Regex; a record reaches every matching output', async () => {
    const h = await startCapture(`
service: { flush: 0.02 }
pipeline:
  outputs:
    - { name: stdout, alias: all, match: '*' }
    - { name: stdout, alias: app, match: 'app.*' }
    - { name: stdout, alias: errs, match_regex: '\\.(err|fatal)$' }
    - { name: stdout, alias: none, match: 'nothing' }
`);
    await h.c.push([
      { tag: 'app.web', body: { n: 1 } },
      { tag: 'app.web.err', body: { n: 2 } },
      { tag: 'sys.fatal', body: { n: 3 } },
    ]);
    await h.c.flush();
    const ns = (id: string) => (h.got.get(id) ?? []).map((r) => r.body.n);
    expect(ns('all')).toEqual([1, 2, 3]);
    expect(ns('app')).toEqual([1, 2]);
    expect(ns('errs')).toEqual([2, 3]);
    expect(ns('none')).toEqual([]);
    await h.c.close();
  });

  it('applies grep, modify, record_modifier, parser and javascript filters in order, by match', async () => {
    const yaml = `
service: { flush: 0.02 }
parsers:
  - { name: kv, format: logfmt }
pipeline:
  filters:
    - { name: parser, match: 'app.*', key_name: log, parser: [json, kv], reserve_data: on }
    - name: grep
      match: 'app.*'
      exclude: [level ^trace$]
    - name: modify
      match: '*'
      rename: [lvl level]
      set: [env prod]
      remove: [secret]
      copy: [env env_copy]
    - name: record_modifier
      match: 'app.*'
      record: [host web-1]
    - { name: javascript, match: 'app.*', script: ${fixtures}enrich.mjs, call: enrich }
  outputs:
    - { name: stdout, match: '*' }
`;
    const h = await startCapture(yaml);
    await h.c.push([
      { tag: 'app.a', body: { log: '{"level":"info","msg":"json line"}', secret: 's' } },
      { tag: 'app.a', body: { log: 'level=trace msg=dropped' } },
      { tag: 'app.a', body: { log: 'level=debug msg=dropped-by-js' } },
      { tag: 'app.a', body: { lvl: 'warn', items: [1, 2] } },
      { tag: 'app.a', body: { explode: true } },
      { tag: 'other', body: { lvl: 'x', secret: 'y' } },
    ]);
    await h.c.flush();
    expect(h.got.get('stdout.0')!.map((r) => r.body)).toEqual([
      { level: 'info', msg: 'json line', env: 'prod', env_copy: 'prod', host: 'web-1', tag: 'app.a' },
      { item: 1, tag: 'app.a' },
      { item: 2, tag: 'app.a' },
      // The javascript filter threw: the record goes on unchanged and the error is counted.
      { explode: true, env: 'prod', env_copy: 'prod', host: 'web-1' },
      { level: 'x', env: 'prod', env_copy: 'prod' },
    ]);
    expect(await h.c.metrics.metrics()).toMatch(/collector_filter_errors_total\{filter="javascript.0"\} 1/);
    await h.c.close();
  });

  it('retries a failing output with backoff and delivers once it recovers; gives up after retry_limit', async () => {
    let fail = 3;
    const s = await sink(() => (fail-- > 0 ? 503 : 200));
    const down = await sink(() => 500);
    const c = createCollector(
      parseConfig(`
service: { flush: 0.02, scheduler.base: 0.01, scheduler.cap: 0.05 }
pipeline:
  outputs:
    - { name: http, match: ok, host: 127.0.0.1, port: ${s.port}, uri: /in, format: json_lines, retry_limit: 5, header: [X-Key abc] }
    - { name: http, match: bad, host: 127.0.0.1, port: ${down.port}, retry_limit: 2 }
`),
      { logger: quiet },
    );
    await c.start();
    await c.push({ tag: 'ok', body: { hello: 'world' }, time: 1_700_000_000_123_456_789n });
    await c.push({ tag: 'bad', body: { lost: true } });
    await c.flush();
    expect(s.bodies).toHaveLength(1);
    expect(s.bodies[0]!.headers['x-key']).toBe('abc');
    expect(JSON.parse(s.bodies[0]!.body.toString())).toEqual({ date: 1700000000.123456, hello: 'world' });
    const m = await c.metrics.metrics();
    expect(m).toMatch(/collector_output_retries_total\{output="http.0"\} 3/);
    expect(m).toMatch(/collector_output_retries_total\{output="http.1"\} 2/);
    expect(m).toMatch(/collector_output_dropped_records_total\{output="http.1"\} 1/);
    await c.close();
    await s.close();
    await down.close();
  });

  it('pauses an input at mem_buf_limit until the output drains (backpressure)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const written: number[] = [];
    const c = createCollector(
      parseConfig(`service: { flush: 0.01 }\npipeline:\n  outputs:\n    - { name: 'null', match: '*' }\n`),
      {
        logger: quiet,
        outputOverride: () => ({
          write: async (recs) => {
            await gate;
            written.push(recs.length);
          },
        }),
      },
    );
    await c.start();
    // The push input's limit is 64M; push 70M worth in one go to cross it.
    const big = 'x'.repeat(70 * 1024 * 1024);
    let settled = false;
    const p = c.push({ tag: 'a', body: { big } }).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
    expect(await c.metrics.metrics()).toMatch(/collector_input_paused\{input="push"\} 1/);
    release();
    await p;
    expect(written).toEqual([1]);
    await c.close();
  });

  it('backpressure reaches a TCP sender: the input stops reading at mem_buf_limit and loses nothing', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const got: number[] = [];
    const c = createCollector(
      parseConfig(
        `service: { flush: 0.01 }\npipeline:\n  inputs:\n    - { name: tcp, listen: 127.0.0.1, port: 0, mem_buf_limit: 64K, format: none }\n  outputs:\n    - { name: 'null', match: '*' }\n`,
      ),
      {
        logger: quiet,
        outputOverride: () => ({
          write: async (recs) => {
            await gate;
            for (const r of recs) got.push(Number(r.body.log));
          },
        }),
      },
    );
    await c.start();
    const { connect } = await import('node:net');
    const sock = connect(c.inputs()[0]!.address!.port!, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const N = 200_000;
    let text = '';
    for (let i = 0; i < N; i++) text += `${i}\n`;
    sock.end(text);
    // The output is blocked: the input pauses and the bytes wait in the sender's buffer.
    await waitFor(async () => /collector_input_paused\{input="tcp.0"\} 1/.test(await c.metrics.metrics()));
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toHaveLength(0);
    release();
    await waitFor(() => got.length === N);
    expect(got.every((v, i) => v === i)).toBe(true);
    await c.close();
  });

  it('ack: on makes the http input answer only after the outputs accepted, and 503 when one gave up', async () => {
    let status = 200;
    let seen = 0;
    const s = await sink(() => (seen++, status));
    const h = createCollector(
      parseConfig(`
service: { flush: 0.2, scheduler.base: 0.01, scheduler.cap: 0.02 }
pipeline:
  inputs:
    - { name: http, listen: 127.0.0.1, port: 0, ack: on }
  outputs:
    - { name: http, match: '*', host: 127.0.0.1, port: ${s.port}, retry_limit: 1 }
`),
      { logger: quiet },
    );
    await h.start();
    const port = h.inputs()[0]!.address!.port!;
    const post = () =>
      fetch(`http://127.0.0.1:${port}/acked`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":1}',
      });
    const r = await post();
    expect(r.status).toBe(201);
    // The answer came after delivery, not before.
    expect(s.bodies).toHaveLength(1);
    status = 500;
    const r2 = await post();
    expect(r2.status).toBe(503);
    expect(seen).toBe(3);
    await h.close();
    await s.close();
  });

  it('push after close is a coded error', async () => {
    const h = await startCapture(`pipeline:\n  outputs:\n    - { name: stdout, match: '*' }\n`);
    await h.c.close();
    await expect(h.c.push({ tag: 'x', body: {} })).rejects.toMatchObject({
      code: 'SPROUT_ERR_COLLECTOR_CLOSED',
    });
  });

  it('refuses a port in use with a coded error', async () => {
    const a = await startCapture(`pipeline:\n  inputs:\n    - { name: tcp, listen: 127.0.0.1, port: 0 }\n`);
    const c = createCollector(
      parseConfig(`pipeline:\n  inputs:\n    - { name: tcp, listen: 127.0.0.1, port: ${a.port()} }\n`),
      { logger: quiet },
    );
    await expect(c.start()).rejects.toMatchObject({ code: 'SPROUT_ERR_COLLECTOR_LISTEN' });
    await a.c.close();
  });

  it('waitFor helper fails when the condition never holds (so tests built on it can fail)', async () => {
    await expect(waitFor(() => false, 50)).rejects.toThrow(/timed out/);
  });
});
