import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { closeServer, listen } from '@sprout/http/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain } from '../../test/main-io.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'sprout-cli-state-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function folder(name: string, yaml: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'statestore.yaml'), yaml);
  return dir;
}

const sqlite = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.sqlite
  version: v1
  metadata:
    - name: keyPrefix
      value: name
`;

const runCli = (args: string[]) => runMain(args, { cwd: tmp });

describe('sprout state serve', () => {
  it('has --help listing its options', async () => {
    const r = await runCli(['state', 'serve', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--resources-path', '--app-id', '--dapr-http-port', '--data-dir'])
      expect(r.out).toContain(flag);
  });

  it('says what to do when --resources-path is missing or holds no state component', async () => {
    const r = await runCli(['state', 'serve']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--resources-path is required/);
    const empty = folder(
      'empty',
      'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: p}\nspec: {type: pubsub.redis, version: v1}\n',
    );
    const e = await runCli(['state', 'serve', '--resources-path', empty]);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/no state components/);
  });

  it('refuses an invalid component with its code, file and line', async () => {
    // A documented key with a value Sprout cannot honour (an unknown key is only a warning, as in Dapr).
    const bad = folder(
      'bad',
      sqlite.replace('keyPrefix\n      value: name', 'outboxPublishTopic\n      value: orders'),
    );
    const r = await runCli(['state', 'serve', '--resources-path', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /SPROUT_ERR_STATE_COMPONENT_INVALID: statestore\.yaml:10: spec\.metadata "outboxPublishTopic"/,
    );
  });

  it('names the busy port and the flag that changes it, with a code', async () => {
    const dir = folder('busy', sqlite);
    const taken = createServer();
    const port = await listen(taken);
    try {
      const r = await runCli([
        'state',
        'serve',
        '--resources-path',
        dir,
        '--dapr-http-port',
        String(port),
        '--data-dir',
        join(tmp, 'busy-data'),
      ]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`error: SPROUT_ERR_STATE_PORT_IN_USE: `);
      expect(r.err).toContain(`127.0.0.1:${port} (EADDRINUSE`);
      expect(r.err).toMatch(/pick another port with --dapr-http-port/);
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      await closeServer(taken);
    }
  });

  it('serves the Dapr state API until SIGTERM, then closes cleanly', async () => {
    const dir = folder('good', sqlite);
    const child = spawn(
      process.execPath,
      [
        '--conditions=@sprout/source',
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        "import { main } from './packages/cli/src/main.ts'; process.exitCode = await main(process.argv.slice(1), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });",
        'state',
        'serve',
        '--resources-path',
        dir,
        '--dapr-http-port',
        '0',
        '--app-id',
        'cli-test',
        '--data-dir',
        join(tmp, 'data'),
      ],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, SPROUT_LOG_FORMAT: 'json' },
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let logs = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        logs += d.toString();
        const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(logs);
        if (m) resolve(m[1]!);
      });
      void exited.then(() => reject(new Error(`exited before listening: ${logs}`)));
    });
    const save = await fetch(`${url}/v1.0/state/statestore`, {
      method: 'POST',
      body: JSON.stringify([{ key: 'o1', value: { total: 3 } }]),
    });
    expect(save.status).toBe(204);
    const got = await fetch(`${url}/v1.0/state/statestore/o1`);
    expect(await got.json()).toEqual({ total: 3 });
    expect(got.headers.get('etag')).toBe('1');
    const md = (await (await fetch(`${url}/v1.0/metadata`)).json()) as {
      id: string;
      components: { type: string }[];
    };
    expect(md).toMatchObject({ id: 'cli-test', components: [{ name: 'statestore', type: 'state.sqlite' }] });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(logs).toContain('shutting down');
  }, 30_000);
});
