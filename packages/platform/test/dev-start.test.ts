import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDev, type DevOptions, type DevServer } from '../src/index.js';
import { captureLogs, fixtures, startTestDev, type TestDev } from './helpers.js';

// What `sprout dev` says and does at start: nothing to serve, broken sources, what earlier runs left
// in the data dir (restored, replaced, --fresh) and broken function.yaml files fixed while it runs.

const open: DevServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

const tmp = (what: string) => mkdtempSync(join(tmpdir(), `sprout-platform-start-${what}-`));

async function dev(paths: string[], options: Partial<Omit<DevOptions, 'paths' | 'logger'>> = {}) {
  const d = await startTestDev(paths, { collector: false, eip: false, standby: 0, ...options });
  open.push(d);
  return d;
}

/** startDev expected to fail: the error and what was logged before it. */
async function refused(paths: string[], options: Partial<DevOptions> = {}) {
  const { logs, logger } = captureLogs();
  const err = await startDev({
    cwd: fixtures,
    dataDir: tmp('data'),
    port: 0,
    host: '127.0.0.1',
    apiPort: 0,
    standby: 0,
    collector: false,
    eip: false,
    ...options,
    paths,
    logger,
  }).then(
    (d) => {
      open.push(d);
      throw new Error(`startDev served ${d.platform.names().join(', ')}; expected it to refuse`);
    },
    (e: unknown) => e as { code: string; message: string },
  );
  return { err, logs };
}

const yaml = (name: string, extra = '') =>
  `apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: ${name}\nspec:\n  serving:\n    scaleOptions:\n      maxReplicas: 2${extra}\n`;

/** A folder with a function answering `answer`, and its function.yaml. */
function functionDir(name: string, answer: string, root = tmp('fn')): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "main": "index.js" }');
  writeFileSync(join(dir, 'index.js'), `export const f = () => ${JSON.stringify(answer)};`);
  writeFileSync(join(dir, 'function.yaml'), yaml(name));
  return dir;
}

const messages = (d: { logs: Record<string, unknown>[] }) => d.logs.map((l) => String(l.msg));

describe('sprout dev with nothing to serve', () => {
  it('fails with the reason for a mistyped folder instead of serving nothing', async () => {
    const { err } = await refused(['ehco']);
    expect(err.code).toBe('SPROUT_ERR_PLATFORM_NOTHING_TO_SERVE');
    expect(err.message).toMatch(/no function loads from ehco/);
    expect(err.message).toMatch(/SPROUT_ERR_SPEC_NO_FUNCTION: ehco: no such file or folder/);
  });

  it('fails for an empty folder, and for a folder whose only function.yaml is broken (file:line and code)', async () => {
    const empty = tmp('empty');
    const a = await refused([empty]);
    expect(a.err.code).toBe('SPROUT_ERR_PLATFORM_NOTHING_TO_SERVE');
    expect(a.err.message).toMatch(/SPROUT_ERR_SPEC_NO_FUNCTION: .*no function.yaml, index.ts or index.js/);
    const b = await refused(['bad-yaml']);
    expect(b.err.code).toBe('SPROUT_ERR_PLATFORM_NOTHING_TO_SERVE');
    expect(b.err.message).toContain(
      `SPROUT_ERR_SPEC_UNSUPPORTED_FIELD: ${join(fixtures, 'bad-yaml', 'function.yaml')}:11:`,
    );
    // The load error was logged on its own line first.
    expect(b.logs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'error', code: 'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD' }),
      ]),
    );
  });

  it('fails when no folder is given, none was registered earlier and . holds no function', async () => {
    const { err } = await refused([], { cwd: tmp('cwd') });
    expect(err.code).toBe('SPROUT_ERR_PLATFORM_NOTHING_TO_SERVE');
    expect(err.message).toMatch(/no folder given, none registered earlier, and \. holds no function/);
  });
});

describe('sprout dev with some functions broken', () => {
  it('serves the rest and says which are broken: a line each (file:line, code), then a summary', async () => {
    const d = await dev(['echo', 'bad-yaml', 'nope']);
    expect(await (await fetch(`${d.url}/echo/x`)).json()).toMatchObject({ path: '/x' });
    const errors = d.logs.filter((l) => l.level === 'error');
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          code: 'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
          msg: expect.stringMatching(/bad-yaml\/function\.yaml:11: /),
        }),
        expect.objectContaining({ code: 'SPROUT_ERR_SPEC_NO_FUNCTION', msg: 'nope: no such file or folder' }),
      ]),
    );
    expect(d.logs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 'warn',
          msg: 'serving 1 of 3 functions; broken: bad-yaml/function.yaml (SPROUT_ERR_SPEC_UNSUPPORTED_FIELD), nope (SPROUT_ERR_SPEC_NO_FUNCTION)',
        }),
      ]),
    );
  });

  it('says how many it serves when none is broken', async () => {
    const d = await dev(['echo', 'greeter']);
    expect(messages(d)).toContain('serving 2 of 2 functions');
  });
});

describe('sprout dev watching broken function.yaml files', () => {
  it('registers a broken function once its function.yaml is fixed, and says when a good one breaks', async () => {
    const root = tmp('watch');
    const good = functionDir('good', 'good');
    const fixme = functionDir('fixme', 'fixed', root);
    writeFileSync(join(fixme, 'function.yaml'), yaml('fixme').replace('maxReplicas', 'maxReplicaz'));
    const d = await dev([good, fixme], { watch: true });
    expect(d.platform.names()).toEqual(['good']);
    expect(d.platform.problems().map((p) => p.code)).toEqual(['SPROUT_ERR_SPEC_UNSUPPORTED_FIELD']);
    // Still broken after an edit: reported again, still not served.
    writeFileSync(join(fixme, 'function.yaml'), yaml('fixme', '\n      minReplicas: x'));
    await expect
      .poll(() => messages(d).some((m) => m.endsWith('function.yaml changed and still does not load')), {
        timeout: 10_000,
      })
      .toBe(true);
    expect(d.platform.problems().map((p) => p.code)).toEqual(['SPROUT_ERR_SPEC_INVALID_FUNCTION']);
    writeFileSync(join(fixme, 'function.yaml'), yaml('fixme'));
    await expect.poll(() => d.platform.names(), { timeout: 10_000 }).toEqual(['fixme', 'good']);
    expect(d.platform.problems()).toEqual([]);
    expect(messages(d)).toContain(`${join(fixme, 'function.yaml')} loads now: function fixme registered`);
    // Its routes apply at once.
    expect(await (await fetch(`${d.url}/fixme`)).text()).toBe('fixed');
    expect(await (await fetch(`${d.url}/good`)).text()).toBe('good');

    // A good file that breaks keeps its running version, and says so.
    writeFileSync(join(good, 'function.yaml'), yaml('good').replace('maxReplicas', 'maxReplicaz'));
    await expect
      .poll(() => messages(d).some((m) => m.includes('no longer loads: function good keeps running')), {
        timeout: 10_000,
      })
      .toBe(true);
    expect(await (await fetch(`${d.url}/good`)).text()).toBe('good');
  });

  it('does not let a fixed duplicate take the name of a running function', async () => {
    const root = tmp('twins');
    const first = functionDir('a', 'first', root);
    const second = functionDir('b', 'second', root);
    writeFileSync(join(first, 'function.yaml'), yaml('twin'));
    writeFileSync(join(second, 'function.yaml'), yaml('twin'));
    const d = await dev([root], { watch: true });
    expect(d.platform.view('twin').file).toBe(join(first, 'function.yaml'));
    expect(d.platform.problems().map((p) => p.code)).toEqual(['SPROUT_ERR_SPEC_DUPLICATE_FUNCTION']);
    // An edit that keeps the name: still a duplicate, the running one stays.
    writeFileSync(join(second, 'function.yaml'), `# edited\n${yaml('twin')}`);
    await expect
      .poll(() => messages(d).some((m) => m.endsWith('function.yaml changed and still does not load')), {
        timeout: 10_000,
      })
      .toBe(true);
    expect(d.platform.view('twin').file).toBe(join(first, 'function.yaml'));
    expect(d.platform.problems().map((p) => p.code)).toEqual(['SPROUT_ERR_SPEC_DUPLICATE_FUNCTION']);
    // Renamed: registered beside it.
    writeFileSync(join(second, 'function.yaml'), yaml('twin-b'));
    await expect.poll(() => d.platform.names(), { timeout: 10_000 }).toEqual(['twin', 'twin-b']);
    expect(d.platform.problems()).toEqual([]);
    expect(await (await fetch(`${d.url}/twin-b`)).text()).toBe('second');
  });
});

describe('what the data dir keeps between runs', () => {
  async function restart(d: TestDev, paths: string[], options: Partial<DevOptions> = {}) {
    await d.close();
    open.splice(open.indexOf(d), 1);
    return dev(paths, { dataDir: d.dataDir, ...options });
  }

  it('says it restores what was registered earlier, and what folders given on the command line replace', async () => {
    const first = await dev(['echo', 'greeter']);
    const restored = await restart(first, [], { cwd: tmp('cwd') });
    expect(restored.platform.names()).toEqual(['echo', 'greeter']);
    expect(restored.logs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          msg: 'restoring 2 function(s) registered earlier (no folder given; sprout dev --fresh starts clean)',
          functions: ['echo', 'greeter'],
          store: join(first.dataDir, 'platform.db'),
        }),
      ]),
    );
    const replaced = await restart(restored, ['echo']);
    expect(replaced.platform.names()).toEqual(['echo']);
    expect(messages(replaced)).toContain(
      'the folders given replace 1 function(s) registered earlier: greeter',
    );
  });

  it('--fresh moves what earlier runs kept to <data-dir>/previous and touches nothing else', async () => {
    const first = await dev(['echo'], { collector: {} });
    expect(await (await fetch(`${first.url}/echo/`)).json()).toMatchObject({ path: '/' });
    await first.telemetry!.scrape();
    const dataDir = first.dataDir;
    writeFileSync(join(dataDir, 'mine.txt'), 'not the platform’s');
    await first.close();
    open.splice(open.indexOf(first), 1);

    // Nothing registered any more and an empty folder: nothing to serve, and the registry is gone.
    const { err, logs } = await refused([], { cwd: tmp('cwd'), dataDir, fresh: true });
    expect(err.code).toBe('SPROUT_ERR_PLATFORM_NOTHING_TO_SERVE');
    const moved = logs.find((l) => String(l.msg).startsWith('--fresh: starting clean'));
    expect(moved).toMatchObject({ to: join(dataDir, 'previous') });
    expect(moved!.moved).toEqual(expect.arrayContaining(['platform.db', 'logs']));
    expect(readdirSync(join(dataDir, 'previous'))).toEqual(expect.arrayContaining(['platform.db', 'logs']));
    expect(existsSync(join(dataDir, 'logs'))).toBe(false);
    expect(existsSync(join(dataDir, 'mine.txt'))).toBe(true);

    // A second --fresh replaces what the first moved.
    const again = await dev(['echo'], { dataDir, fresh: true });
    expect(messages(again).find((m) => m.startsWith('--fresh'))).toMatch(
      /^--fresh: starting clean; moved platform\.db.* from earlier runs to .*previous \(replacing what the last --fresh moved there\)$/,
    );
    expect(readdirSync(join(dataDir, 'previous'))).toContain('platform.db');
    expect(readdirSync(join(dataDir, 'previous'))).not.toContain('logs');
  });
});
