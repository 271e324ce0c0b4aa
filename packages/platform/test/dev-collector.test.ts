import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DevOptions, DevServer } from '../src/index.js';
import { schemaErrors, startTestDev, until, withToken } from './helpers.js';

const open: DevServer[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const tmp = () => mkdtempSync(join(tmpdir(), 'sprout-platform-collect-'));

async function dev(paths: string[], collector: DevOptions['collector']) {
  const d = await startTestDev(paths, { eip: false, collector });
  open.push(d);
  return d;
}

const jsonLines = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];

describe('sprout dev collects function logs and gateway metrics', () => {
  it('writes every instance line and the gateway metrics as JSON lines under the data dir by default', async () => {
    const d = await dev(['shop-web'], { scrapeIntervalMs: 100 });
    expect(await (await fetch(`${d.url}/?id=41`)).text()).toBe('shop-web saw /');
    const file = join(d.dataDir, 'logs', 'fn.shop.shop-web');
    const lines = await until('both lines of the request', () => {
      const recs = jsonLines(file);
      return recs.some((r) => r.stream === 'stderr') && recs.some((r) => r.log === 'order 41 received')
        ? recs
        : undefined;
    });
    const stdout = lines.find((r) => r.log === 'order 41 received')!;
    expect(stdout).toMatchObject({
      stream: 'stdout',
      kubernetes: { namespace_name: 'shop', container_name: 'shop-web', pod_name: expect.any(String) },
    });
    expect(typeof stdout.date).toBe('number');
    const stderr = lines.find((r) => r.stream === 'stderr' && String(r.log).includes('slow supplier'))!;
    expect(JSON.parse(String(stderr.log))).toMatchObject({ level: 'warn', id: '41' });

    const metrics = join(d.dataDir, 'logs', 'sprout.gateway.metrics');
    const requests = await until('a scrape with the request counted', () =>
      jsonLines(metrics).find(
        (r) =>
          r.name === 'sprout_gateway_requests_total' &&
          (r.labels as Record<string, string> | undefined)?.function === 'shop-web',
      ),
    );
    expect(requests).toMatchObject({ type: 'counter', value: 1 });
    // The collector's own counters are on the API's /metrics next to the gateway's.
    const text = await (await fetch(`${d.api.url}/metrics`)).text();
    expect(text).toMatch(/sprout_gateway_requests_total/);
    expect(text).toMatch(/collector_input_records_total\{input="push"\} [1-9]/);
  });

  it('runs a fluent-bit config: its filters and outputs get the records, its inputs run too', async () => {
    const received: Record<string, unknown>[] = [];
    const sink = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        for (const r of JSON.parse(body) as Record<string, unknown>[]) received.push(r);
        res.writeHead(200).end();
      });
    });
    servers.push(sink);
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const port = (sink.address() as AddressInfo).port;
    const dir = tmp();
    const config = join(dir, 'collector.yaml');
    writeFileSync(
      config,
      `service:
  flush: 0.1
pipeline:
  inputs:
    - name: http
      listen: 127.0.0.1
      port: 0
      tag: side
  filters:
    - name: grep
      match: 'fn.*'
      regex: stream ^stdout$
    - name: modify
      match: '*'
      add: cluster local-dev
  outputs:
    - name: http
      match_regex: '^(fn\\..*|side)$'
      host: 127.0.0.1
      port: ${port}
      format: json
`,
    );
    const d = await dev(['shop-web'], { configFile: config });
    await fetch(`${d.url}/?id=9`);
    const side = d.telemetry!.inputs().find((i) => i.plugin === 'http')!.address!;
    const posted = await fetch(`http://127.0.0.1:${side.port}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'from the side input' }),
    });
    expect(posted.status).toBe(201);
    await until('the stdout line and the side record', () =>
      received.some((r) => r.log === 'order 9 received') && received.some((r) => r.note) ? true : undefined,
    );
    // grep kept stdout only; modify added the field to both.
    expect(received.filter((r) => r.stream === 'stderr')).toEqual([]);
    expect(received.find((r) => r.log === 'order 9 received')).toMatchObject({ cluster: 'local-dev' });
    expect(received.find((r) => r.note)).toMatchObject({ cluster: 'local-dev' });
    // The metrics tag was not matched by the output: nothing else arrived.
    expect(received.every((r) => r.log !== undefined || r.note !== undefined)).toBe(true);
  });

  it('delivers the last lines of instances at shutdown; a large file is rotated at the next start', async () => {
    const d = await dev(['shop-web'], {});
    await fetch(`${d.url}/?id=last`);
    await d.close();
    open.splice(open.indexOf(d), 1);
    const file = join(d.dataDir, 'logs', 'fn.shop.shop-web');
    const recs = jsonLines(file);
    expect(recs.some((r) => r.log === 'order last received')).toBe(true);
    // The final scrape at close counted the request.
    expect(
      jsonLines(join(d.dataDir, 'logs', 'sprout.gateway.metrics')).some(
        (r) => r.name === 'sprout_gateway_requests_total' && r.value === 1,
      ),
    ).toBe(true);
    const again = await startTestDev(['shop-web'], {
      dataDir: d.dataDir,
      eip: false,
      collector: { rotateBytes: 10 },
    });
    open.push(again);
    // Rotated before the new collector opened it: the old lines in .1, the file begun afresh.
    expect(jsonLines(`${file}.1`).some((r) => r.log === 'order last received')).toBe(true);
    expect(jsonLines(file).some((r) => r.log === 'order last received')).toBe(false);
  });

  it('refuses an invalid or output-less config with a coded error that says what to do', async () => {
    const dir = tmp();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'pipeline:\n  outputs:\n    - name: no-such-output\n      match: "*"\n');
    await expect(dev(['echo'], { configFile: bad })).rejects.toMatchObject({
      code: 'SPROUT_ERR_PLATFORM_COLLECTOR',
      message: expect.stringMatching(/bad\.yaml.*no-such-output/),
    });
    const none = join(dir, 'none.yaml');
    writeFileSync(none, 'pipeline:\n  inputs:\n    - name: tcp\n      port: 0\n');
    await expect(dev(['echo'], { configFile: none })).rejects.toMatchObject({
      code: 'SPROUT_ERR_PLATFORM_COLLECTOR',
      message: expect.stringMatching(/no outputs/),
    });
    await expect(dev(['echo'], { configFile: join(dir, 'missing.yaml') })).rejects.toMatchObject({
      code: 'SPROUT_ERR_PLATFORM_COLLECTOR',
    });
  });

  it("serves a function's recent lines over the API, filtered, and follows new ones as events", async () => {
    const d = await dev(['shop-web'], false);
    await fetch(`${d.url}/?id=1`);
    await fetch(`${d.url}/?id=2`);
    const got = await until('both stdout lines held', async () => {
      const r = await d.call('/v1/functions/shop-web/logs?stream=stdout&tail=2');
      const lines = (r.body.lines as { line: string }[]).map((l) => l.line);
      return lines.includes('order 2 received') ? r : undefined;
    });
    expect(schemaErrors('LogLines', got.body)).toEqual([]);
    expect((got.body.lines as { line: string }[]).map((l) => l.line)).toEqual([
      'order 1 received',
      'order 2 received',
    ]);
    const stderr = await d.call('/v1/functions/shop-web/logs?stream=stderr');
    expect((stderr.body.lines as { stream: string }[]).every((l) => l.stream === 'stderr')).toBe(true);
    expect((await d.call('/v1/functions/shop-web/logs?tail=-1')).body).toMatchObject({
      error: { code: 'SPROUT_ERR_PLATFORM_INVALID_REQUEST' },
    });
    expect((await d.call('/v1/functions/nope/logs')).status).toBe(404);

    // follow: the held line first, then a new one as it is written.
    const ac = new AbortController();
    const res = await fetch(
      `${d.api.url}/v1/functions/shop-web/logs?follow=true&tail=1&stream=stdout`,
      withToken(d.api.token, { signal: ac.signal }),
    );
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const read = async (want: RegExp) => {
      while (!want.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${want}: ${text}`);
        text += new TextDecoder().decode(value);
      }
    };
    await read(/order 2 received/);
    await fetch(`${d.url}/?id=3`);
    await read(/order 3 received/);
    ac.abort();
    const events = text
      .split('\n\n')
      .filter((e) => e.startsWith('event: log'))
      .map((e) => JSON.parse(e.split('\ndata: ')[1]!) as Record<string, unknown>);
    expect(events.map((e) => e.line)).toEqual(['order 2 received', 'order 3 received']);
    for (const e of events) expect(schemaErrors('LogLine', e)).toEqual([]);
  });

  it('logs each collector input that other machines can reach, as sprout collector does', async () => {
    const config = join(tmp(), 'exposed.yaml');
    // Port 0 on every interface for the length of this test: the one way to see the warning for real.
    writeFileSync(
      config,
      `pipeline:
  inputs:
    - { name: tcp, listen: 0.0.0.0, port: 0 }
    - { name: http, listen: 127.0.0.1, port: 0 }
  outputs:
    - { name: 'null', match: '*' }
`,
    );
    const d = await dev(['shop-web'], { configFile: config });
    const warned = await until('the exposed-input warning', () => d.logs.find((l) => l.exposed === true));
    expect(warned).toMatchObject({ level: 'warn', component: 'collector', input: 'tcp.0', host: '0.0.0.0' });
    expect(String(warned.msg)).toMatch(
      /accepts records from other machines on port \d+ \(0\.0\.0\.0\), unauthenticated/,
    );
    await until('both inputs listed', () =>
      d.logs.filter((l) => l.msg === 'collector input listening').length === 2 ? true : undefined,
    );
    expect(d.logs.filter((l) => l.exposed === true).map((l) => l.input)).toEqual(['tcp.0']);
  });
});
