// `sprout init`: every template is written into a temporary folder, checked against OpenFunction's
// schema and @sprout/spec, served with `sprout run` and `sprout dev` and called with the curl line
// init prints, and its own generated test is run with vitest.
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listen, closeServer } from '@sprout/http/testing';
import { createManifestValidator, type ManifestValidator } from '@sprout/kube';
import { createLogger } from '@sprout/observe';
import { startDev } from '@sprout/platform';
import { loadFunctionDir } from '@sprout/spec';
import { runMain } from './main-io.js';
import { killAll, root, serveSprout } from './sprout.js';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'sprout-init-'));
// The generated package.json lists @sprout/framework and vitest; here they come from the repository.
symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'));
const dataDir = join(work, '.data');

afterEach(killAll);
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Case {
  folder: string;
  name: string;
  target: string;
  signature: string;
  components: string[];
  status: number;
  answer: unknown;
}

// What each template's printed curl line gets back (`{ reason }` is matched, not compared).
const cases: Record<string, Case> = {
  http: {
    folder: 'Hello World',
    name: 'hello-world',
    target: 'hello',
    signature: 'http',
    components: [],
    status: 200,
    answer: 'Hello, you!\n',
  },
  typescript: {
    folder: 'ts-fn',
    name: 'ts-fn',
    target: 'hello',
    signature: 'http',
    components: [],
    status: 200,
    answer: { message: 'Hello, you!' },
  },
  cloudevent: {
    folder: 'ce-fn',
    name: 'ce-fn',
    target: 'onEvent',
    signature: 'cloudevent',
    components: [],
    status: 200,
    answer: { id: '1', type: 'com.example.greet', greeting: 'Hello, you!' },
  },
  openfunction: {
    folder: 'of-fn',
    name: 'of-fn',
    target: 'handler',
    signature: 'openfunction',
    components: [],
    status: 200,
    answer: { greeting: 'Hello, you!', function: 'of-fn', version: 'v1.0.0' },
  },
  async: {
    folder: 'async-fn',
    name: 'async-fn',
    target: 'handler',
    signature: 'openfunction',
    components: ['results'],
    status: 202,
    // Nothing listens at the url in function.yaml (127.0.0.1:8090): the function says so.
    answer: { accepted: 'o1', delivered: false, reason: expect.stringContaining('output "results"') },
  },
  state: {
    folder: 'state-fn',
    name: 'state-fn',
    target: 'visit',
    signature: 'openfunction',
    components: ['visits'],
    status: 200,
    answer: { name: 'you', visits: 1 },
  },
};
const names = Object.keys(cases);
const printed: Record<string, string> = {};
let validator: ManifestValidator;
let generatedChecks: Promise<{ report: VitestReport }>;

interface VitestReport {
  testResults: { name: string; status: string; assertionResults: { status: string }[] }[];
}

/**
 * The generated tests, run by a vitest of their own over every template folder (as `npm test` runs
 * them), and `tsc` over the TypeScript template; started early, they run beside the serving tests.
 */
async function checkGenerated(): Promise<{ report: VitestReport }> {
  // A vitest of its own, not a worker of this one.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(VITEST|NODE_OPTIONS)/.test(k)),
  );
  const outputFile = join(work, '.vitest.json');
  const vitest = join(root, 'node_modules/vitest/vitest.mjs');
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  await Promise.all([
    run(process.execPath, [vitest, 'run', '--root', work, '--reporter=json', `--outputFile=${outputFile}`], {
      cwd: work,
      env,
    }),
    run(process.execPath, [tsc, '-p', join(work, 'ts-fn')]),
  ]);
  return { report: JSON.parse(readFileSync(outputFile, 'utf8')) as VitestReport };
}

beforeAll(async () => {
  for (const t of names) {
    const r = await runMain(['init', cases[t]!.folder, '--template', t], { cwd: work });
    expect(r, t).toMatchObject({ code: 0, err: '' });
    printed[t] = r.out;
  }
  generatedChecks = checkGenerated();
  generatedChecks.catch(() => {}); // awaited (and reported) by its test
  validator = createManifestValidator();
});

/** Runs the curl line `sprout init` printed against `base` (instead of localhost:8080). */
async function curl(template: string, base: string): Promise<{ status: number; body: unknown }> {
  const line = /^ {2}(curl .*?) {4}# in another terminal$/m.exec(printed[template]!)?.[1];
  expect(line, printed[template]).toBeDefined();
  const command = `${line!.replace('localhost:8080', base.replace(/^http:\/\//, ''))} -s -w '\\n%{http_code}'`;
  const { stdout } = await run('sh', ['-c', command]);
  const cut = stdout.lastIndexOf('\n');
  const text = stdout.slice(0, cut);
  const body: unknown = /^[[{]/.test(text) ? JSON.parse(text) : text;
  return { status: Number(stdout.slice(cut + 1)), body };
}

const devOn = (dir: string) =>
  startDev({
    paths: [dir],
    dataDir: mkdtempSync(join(work, '.dev-')),
    port: 0,
    host: '127.0.0.1',
    apiPort: 0,
    standby: 0,
    collector: false,
    eip: false,
    logger: createLogger({ name: 'init-test', level: 'silent' }),
  });

describe('sprout init', () => {
  it.each(names)('%s: writes a function.yaml valid against OpenFunction and read by @sprout/spec', (t) => {
    const c = cases[t]!;
    const dir = join(work, c.folder);
    const manifest = parse(readFileSync(join(dir, 'function.yaml'), 'utf8')) as unknown;
    validator.assertValid(manifest);
    const fn = loadFunctionDir(dir);
    expect({ name: fn.name, target: fn.target, signature: fn.signatureType }).toEqual({
      name: c.name,
      target: c.target,
      signature: c.signature,
    });
    expect(fn.components.map((x) => x.metadata.name)).toEqual(c.components);
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f), 'utf8'), f).not.toMatch(/__[A-Z]+__/);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toMatchObject({
      name: c.name,
      scripts: { test: 'vitest run' },
    });
    // What was written, and what to run next.
    const out = printed[t]!;
    expect(out).toContain(`Created ${t} function "${c.name}" in ${c.folder}:`);
    for (const f of readdirSync(dir)) expect(out).toMatch(new RegExp(`^ {2}${f.replace('.', '\\.')} `, 'm'));
    expect(out).toContain(`  npx sprout dev ${c.folder.includes(' ') ? `'${c.folder}'` : c.folder}\n`);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain(/ {2}(curl .*?) {4}#/.exec(out)![1]);
  });

  it.each(names)('%s: answers the printed curl line under sprout run and sprout dev', async (t) => {
    const c = cases[t]!;
    const dir = join(work, c.folder);
    const served = await serveSprout(['run', dir, '--data-dir', dataDir]);
    expect(await curl(t, served.url)).toEqual({ status: c.status, body: c.answer });
    const dev = await devOn(dir);
    try {
      expect(await curl(t, dev.url)).toEqual({ status: c.status, body: c.answer });
    } finally {
      await dev.close();
    }
  });

  it('state: counts on in the embedded SQLite store under the data dir', async () => {
    const served = await serveSprout(['run', join(work, 'state-fn'), '--data-dir', dataDir]);
    const before = ((await curl('state', served.url)).body as { visits: number }).visits;
    expect(await curl('state', served.url)).toEqual({
      status: 200,
      body: { name: 'you', visits: before + 1 },
    });
    expect(existsSync(join(dataDir, 'state', 'visits.db'))).toBe(true);
  });

  it('async: sends each result to its output when something takes it', async () => {
    const got: { path: string; body: unknown }[] = [];
    const receiver = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c));
      req.on('end', () => {
        got.push({ path: req.url!, body: JSON.parse(text) });
        res.end('ok');
      });
    });
    const port = await listen(receiver, '127.0.0.1');
    try {
      // The function.yaml's `results` component, pointed at the receiver (as a resources folder does).
      const resources = join(work, '.resources');
      mkdirSync(resources, { recursive: true });
      writeFileSync(
        join(resources, 'results.yaml'),
        `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: results\nspec:\n  type: bindings.http\n  version: v1\n  metadata:\n    - name: url\n      value: http://127.0.0.1:${port}/results\n`,
      );
      const served = await serveSprout(['run', join(work, 'async-fn'), '--resources-path', resources]);
      expect(await curl('async', served.url)).toEqual({
        status: 202,
        body: { accepted: 'o1', delivered: true },
      });
      expect(got).toEqual([{ path: '/results', body: { id: 'o1', total: 3, handledBy: 'async-fn' } }]);
    } finally {
      await closeServer(receiver);
    }
  });

  it("passes every template's own generated test (vitest), and the TypeScript one type-checks", async () => {
    const { report } = await generatedChecks;
    const byFolder = Object.fromEntries(
      report.testResults.map((r) => [
        r.name.slice(work.length + 1).split('/')[0],
        { status: r.status, passed: r.assertionResults.filter((a) => a.status === 'passed').length },
      ]),
    );
    for (const t of names) {
      expect(byFolder[cases[t]!.folder], t).toMatchObject({ status: 'passed' });
      expect(byFolder[cases[t]!.folder]!.passed, t).toBeGreaterThan(0);
    }
  });
});
