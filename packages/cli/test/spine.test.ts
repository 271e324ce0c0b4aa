// One function spec, three readers: `sprout run`, `sprout dev` and `sprout deploy --render` are fed
// the same folders and must agree on the name, target, signature, environment, components (with
// the same secret resolution) and what the function answers.
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { parseAllDocuments } from 'yaml';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@sprout/observe';
import { startDev } from '@sprout/platform';
import { loadFunctionDir } from '@sprout/spec';
import { runMain } from './main-io.js';
import { killAll, root, serveSprout } from './sprout.js';

const platformFixtures = fileURLToPath(new URL('../../platform/test/fixtures/', import.meta.url));
const cliFixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const env = { AGREE_REDIS_HOST: '127.0.0.1:6379' };
const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });

afterEach(killAll);
afterAll(async () => {
  await redis.del('visits||cli-spine-test-ada', 'visits||cli-spine-test-bob');
  redis.disconnect();
});

interface Row {
  dir: string;
  /** Request as the function sees it (what `sprout run` serves at its root). */
  path: string;
  init?: RequestInit;
  /** How the gateway reaches it under `sprout dev`. */
  devPath: string;
  devHost?: string;
  expected: { name: string; target?: string; signature?: string; components: string[]; body: unknown };
}

const post = (who: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ who }),
});

const rows: [string, Row][] = [
  [
    'a plain folder',
    {
      dir: join(root, 'examples/hello'),
      path: '/?name=spine',
      devPath: '/hello?name=spine',
      expected: { name: 'hello', components: [], body: 'Hello, spine!\n' },
    },
  ],
  [
    'a function.yaml with a target, environment and a route',
    {
      dir: join(platformFixtures, 'greeter'),
      path: '/?name=ada',
      devPath: '/greet?name=ada',
      devHost: 'greeter.local',
      expected: { name: 'greeter', target: 'greet', components: [], body: 'Howdy, ada!' },
    },
  ],
  [
    'a function.yaml with a state store whose address is a secret',
    {
      dir: join(cliFixtures, 'agree-state'),
      path: '/',
      init: post('ada'),
      devPath: '/agree-state',
      expected: {
        name: 'agree-state',
        target: 'visit',
        signature: 'openfunction',
        components: ['visits'],
        body: { greeting: 'Welcome back', seen: 1 },
      },
    },
  ],
];

/** `sprout dev` in this process on free ports, with the test's environment. */
const devOn = (dir: string) =>
  startDev({
    paths: [dir],
    cwd: root,
    dataDir: mkdtempSync(join(tmpdir(), 'sprout-cli-spine-')),
    port: 0,
    host: '127.0.0.1',
    apiPort: 0,
    logger: createLogger({ name: 'spine', level: 'silent' }),
    watch: false,
    env: { ...process.env, ...env },
  });

/** One request (node:http, so a Host header can be set); the body parsed when it is JSON. */
function answer(url: string, init: RequestInit = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: init.method ?? 'GET', headers: init.headers as Record<string, string> },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          try {
            expect(res.statusCode, text).toBe(200);
            resolve(res.headers['content-type']?.includes('json') ? JSON.parse(text) : text);
          } catch (err) {
            reject(err as Error);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(init.body as string | undefined);
  });
}

describe('run, dev and deploy read a function the same way', () => {
  it.each(rows)('%s', async (_name, row) => {
    await redis.del('visits||cli-spine-test-ada');
    const fn = loadFunctionDir(row.dir);
    expect({ name: fn.name, target: fn.target, signature: fn.signatureType }).toEqual({
      name: row.expected.name,
      target: row.expected.target,
      signature: row.expected.signature,
    });
    expect(fn.components.map((c) => c.metadata.name)).toEqual(row.expected.components);

    // sprout run: the framework alone, reading the folder's function.yaml.
    const run = await serveSprout(['run', row.dir], env);
    expect(await answer(`${run.url}${row.path}`, row.init)).toEqual(row.expected.body);
    const serving = run.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'serving');
    expect(serving?.function).toBe(row.expected.target ?? serving?.function);

    // sprout dev: the platform, the gateway and a supervised instance started from the same spec.
    await redis.del('visits||cli-spine-test-ada');
    const dev = await devOn(row.dir);
    try {
      expect(dev.platform.names()).toEqual([row.expected.name]);
      const headers = { ...(row.init?.headers as object), ...(row.devHost ? { host: row.devHost } : {}) };
      expect(await answer(`${dev.url}${row.devPath}`, { ...row.init, headers })).toEqual(row.expected.body);
    } finally {
      await dev.close();
    }

    // sprout deploy --render: the Function (and, without OpenFunction, its state components).
    const rendered = await runMain(['deploy', '--render', row.dir, '--without-openfunction', '-n', 'spine']);
    expect(rendered.code, rendered.err).toBe(0);
    const docs = parseAllDocuments(rendered.out).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string } },
    );
    expect(docs.find((d) => d.kind === 'Deployment')?.metadata.name).toBe(row.expected.name);
    expect(docs.filter((d) => d.kind === 'Component').map((d) => d.metadata.name)).toEqual(
      row.expected.components,
    );
    const fnDoc = await runMain(['deploy', '--render', row.dir]);
    const [manifest] = parseAllDocuments(fnDoc.out).map((d) => d.toJS() as any);
    expect(manifest.metadata.name).toBe(row.expected.name);
    expect(manifest.spec.serving.params?.FUNCTION_TARGET).toBe(row.expected.target);
    expect(manifest.spec.version).toBe(fn.version);
  });

  it('refuses the same broken file in all three, with the same code and line', async () => {
    const dir = join(platformFixtures, 'bad-yaml');
    const run = await runMain(['run', dir, '--port', '0']);
    const deploy = await runMain(['deploy', '--render', dir]);
    for (const r of [run, deploy]) {
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        /SPROUT_ERR_SPEC_UNSUPPORTED_FIELD: .*function\.yaml:11: field "spec\.serving\.triggers\.http\.rewrite"/,
      );
    }
    // With nothing else to serve, sprout dev refuses to start, naming the same code and line.
    await expect(devOn(dir)).rejects.toMatchObject({
      code: 'SPROUT_ERR_PLATFORM_NOTHING_TO_SERVE',
      message: expect.stringMatching(
        /SPROUT_ERR_SPEC_UNSUPPORTED_FIELD: .*function\.yaml:11: field "spec\.serving\.triggers\.http\.rewrite"/,
      ),
    });
  });
});
