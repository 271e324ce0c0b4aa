import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCollector, parseConfig, type Collector } from '../src/index.js';
import { quiet, waitFor } from './helpers.js';

// Tags come from senders (the http input's URL path, a record field through tag_key); the file
// output names files after them. Whatever a sender picks, files stay inside the output's folder.
const root = mkdtempSync(join(tmpdir(), 'collector-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

async function start(out: string, extra = '') {
  const c = createCollector(
    parseConfig(`
service: { flush: 0.02, scheduler.base: 0.01, scheduler.cap: 0.02 }
pipeline:
  inputs:
    - { name: http, listen: 127.0.0.1, port: 0, tag: http.default }
    - { name: http, listen: 127.0.0.1, port: 0, tag_key: kind }
  outputs:
    - { name: file, match: '*', path: ${out}, format: plain, ${extra} }
`),
    { logger: quiet },
  );
  await c.start();
  return c;
}

/** POSTs JSON to `path` exactly as written (fetch would resolve `%2E%2E` segments before sending). */
const post = (c: Collector, input: number, path: string, body: unknown) =>
  new Promise<number>((resolve, reject) => {
    const req = request(
      {
        port: c.inputs()[input]!.address!.port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode!);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });

const dropped = async (c: Collector) =>
  Number(
    /collector_output_dropped_records_total\{output="file.0"\} (\d+)/.exec(await c.metrics.metrics())?.[1] ??
      0,
  );

describe('file output: tags never write outside its folder', () => {
  it('encodes .., separators, %2F, backslashes, NUL and absolute paths as fluent-bit does; a normal tag writes where it did', async () => {
    const out = join(root, 'a', 'b', 'out');
    mkdirSync(out, { recursive: true });
    const c = await start(out, 'mkdir: on');
    const sent: Array<[number, string, unknown, string]> = [
      [0, '/app.web', { n: 'happy' }, 'app.web'],
      [0, '/..%2F..%2Fanything', { n: 'url climbs' }, '_/_/anything'],
      [0, '/%2E%2E/%2E%2E/dots', { n: 'encoded dots' }, '_/_/dots'],
      [0, '/%2Fabs%2Fpath', { n: 'absolute' }, 'abs/path'],
      [0, '/..%5C..%5Cback', { n: 'backslashes' }, '_/_/back'],
      [0, '/a%00b', { n: 'nul' }, 'a_b'],
      [0, '/', { n: 'input tag' }, 'http.default'],
      [1, '/', { kind: '../x', n: 'field climbs' }, '_/x'],
      [1, '/', { kind: '/etc/cron.d/job', n: 'field absolute' }, 'etc/cron.d/job'],
    ];
    for (const [input, path, body] of sent) expect(await post(c, input, path, body), path).toBe(201);
    expect(await c.flush()).toBe(true); // every batch written or given up on
    // Nothing anywhere else under the root (a/, a/b/ hold only the output's folder).
    expect(filesUnder(root).map((f) => relative(out, join(root, f)))).toEqual(filesUnder(out));
    for (const [, path, body, file] of sent)
      expect(readFileSync(join(out, file), 'utf8'), path).toBe(JSON.stringify(body) + '\n');
    expect(await dropped(c)).toBe(0);
    await c.close();
  });

  it('refuses a tag too long to be a file name: counted and logged, the rest of the batch written', async () => {
    const out = join(root, 'long');
    const c = await start(out, 'mkdir: on');
    const long = 'x'.repeat(300);
    expect(
      await post(c, 1, '/', [
        { kind: long, n: 1 },
        { kind: 'ok.tag', n: 2 },
        { kind: `a/${long}`, n: 3 },
      ]),
    ).toBe(201);
    await c.flush();
    await waitFor(async () => (await dropped(c)) === 2);
    expect(filesUnder(out)).toEqual(['ok.tag']);
    expect(readFileSync(join(out, 'ok.tag'), 'utf8')).toBe('{"kind":"ok.tag","n":2}\n');
    await c.close();
  });

  it('without mkdir a climbing tag writes nothing anywhere (its sub-folder does not exist), counted', async () => {
    const out = join(root, 'c', 'd', 'flat');
    mkdirSync(out, { recursive: true });
    const c = await start(out);
    expect(await post(c, 0, '/..%2F..%2Fescaped', { n: 1 })).toBe(201);
    expect(await post(c, 0, '/fine', { n: 2 })).toBe(201);
    await c.flush();
    await waitFor(async () => (await dropped(c)) === 1);
    expect(filesUnder(join(root, 'c'))).toEqual(['d/flat/fine']);
    await c.close();
  });
});
