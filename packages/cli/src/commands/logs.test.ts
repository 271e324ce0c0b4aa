import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { assertNoDuplicateKeys } from '@sprout/observe/testing';

const bin = fileURLToPath(new URL('../../bin/sprout.js', import.meta.url));
const shopWeb = fileURLToPath(new URL('../../../platform/test/fixtures/shop-web', import.meta.url));
const env = { ...process.env, SPROUT_LOG_FORMAT: 'json', NODE_OPTIONS: '' };
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

/**
 * Starts `sprout dev` on shop-web in a folder of its own (its data dir the default .sprout there);
 * resolves with the gateway and API URLs, that folder and its log lines so far.
 */
async function dev(): Promise<{
  child: ChildProcess;
  url: string;
  api: string;
  cwd: string;
  logs: string[];
}> {
  const cwd = mkdtempSync(join(tmpdir(), 'sprout-cli-logs-'));
  const child = spawn(
    process.execPath,
    [bin, 'dev', shopWeb, '--port', '0', '--host', '127.0.0.1', '--api-port', '0'].concat([
      '--standby',
      '0',
      '--no-eip',
      '--no-collector',
      '--no-watch',
    ]),
    { env, cwd },
  );
  children.push(child);
  const logs: string[] = [];
  let url = '';
  let api = '';
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stderr!.on('data', (c: Buffer) => {
      buf += c.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        logs.push(line);
        const rec = JSON.parse(line) as { msg: string; url?: string };
        if (rec.msg === 'serving' && !url) url = rec.url!.replace(/\/[^/]*$/, '');
        if (rec.msg === 'platform API') api = rec.url!;
        if (url && api) resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`sprout dev exited with ${code}: ${logs.join('\n')}`)));
  });
  return { child, url, api, cwd, logs };
}

/** Runs `sprout logs shop-web ...` through a shell pipe, as a user would, in the folder sprout dev runs in. */
const piped = (d: { api: string; cwd: string }, args: string, pipe: string) =>
  spawnSync(
    'sh',
    ['-c', `"${process.execPath}" "${bin}" logs shop-web --api-url ${d.api} ${args} | ${pipe}`],
    {
      encoding: 'utf8',
      env,
      cwd: d.cwd,
      timeout: 20_000,
    },
  );

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('sprout logs', () => {
  it("writes a function's stdout and stderr lines to its stdout, each labelled with its stream", async () => {
    const d = await dev();
    expect(await (await fetch(`${d.url}/?id=5`)).text()).toBe('shop-web saw /');
    const all = await until('both lines of the request held by the API', () => {
      const r = spawnSync(process.execPath, [bin, 'logs', 'shop-web', '--api-url', d.api], {
        encoding: 'utf8',
        env,
        cwd: d.cwd,
        timeout: 20_000,
      });
      return r.stdout.includes('stdout order 5 received') && r.stdout.includes('slow supplier')
        ? r
        : undefined;
    });
    expect(all.status).toBe(0);
    expect(all.stderr).toBe('');
    const lines = all.stdout.split('\n').filter(Boolean);
    expect(
      lines.every((l) => /^(stdout|stderr) /.test(l)),
      all.stdout,
    ).toBe(true);
    expect(lines).toContain('stdout order 5 received');
    const stderr = lines.find((l) => l.includes('slow supplier'))!;
    expect(stderr).toMatch(/^stderr \{/);
    expect(JSON.parse(stderr.slice('stderr '.length))).toMatchObject({ level: 'warn', id: '5' });

    // The pipe sees the lines: grep finds the request, cut gives the bare line back.
    const grep = piped(d, '', "grep 'order 5'");
    expect(grep.status, grep.stderr).toBe(0);
    expect(grep.stdout).toBe('stdout order 5 received\n');
    const bare = piped(d, '--stream stderr', 'cut -d" " -f2-');
    const records = bare.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => assertNoDuplicateKeys(l) as Record<string, unknown>);
    expect(records.some((r) => r.msg === 'slow supplier')).toBe(true);
    expect(records.some((r) => r.msg === 'serving')).toBe(true);

    // --stream keeps one stream; --timestamps puts time and instance first.
    const onlyOut = piped(d, '--stream stdout --timestamps', 'cat');
    const outLines = onlyOut.stdout.split('\n').filter(Boolean);
    expect(outLines.length).toBeGreaterThan(0);
    for (const l of outLines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\S+ shop-web-1 stdout /);
    expect(outLines).toContainEqual(expect.stringMatching(/ shop-web-1 stdout order 5 received$/));

    // --follow writes new lines to stdout too, labelled the same way.
    const follower = spawn(
      process.execPath,
      [bin, 'logs', 'shop-web', '-f', '--tail', '0', '--api-url', d.api],
      { env, cwd: d.cwd },
    );
    children.push(follower);
    let followed = '';
    let followedErr = '';
    follower.stdout.on('data', (c: Buffer) => (followed += c.toString()));
    follower.stderr.on('data', (c: Buffer) => (followedErr += c.toString()));
    // With --tail 0 it sees only what comes after it connected, which takes a moment: the request
    // goes again every half second until its lines come through.
    let asked = 0;
    await until(
      'the followed lines',
      () => {
        if (Date.now() - asked >= 500) {
          asked = Date.now();
          void fetch(`${d.url}/?id=6`).catch(() => undefined);
        }
        return followed.includes('stdout order 6 received') && /^stderr \{.*"id":"6"/m.test(followed)
          ? true
          : undefined;
      },
      20_000,
    );
    expect(followedErr).toBe('');

    // From another folder there is no token: 401, and the error says where the token lives; the data
    // dir given, or the token in SPROUT_API_TOKEN, works from anywhere.
    const elsewhere = mkdtempSync(join(tmpdir(), 'sprout-cli-logs-elsewhere-'));
    const logsFrom = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
      spawnSync(process.execPath, [bin, 'logs', 'shop-web', '--api-url', d.api, ...args], {
        encoding: 'utf8',
        env: { ...env, ...extra },
        cwd: elsewhere,
        timeout: 20_000,
      });
    const refused = logsFrom([]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/SPROUT_ERR_HTTP_UNAUTHORIZED.*api-token does not exist.*--data-dir/);
    expect(logsFrom(['--data-dir', join(d.cwd, '.sprout')]).stdout).toContain('stdout order 5 received');
    const token = readFileSync(join(d.cwd, '.sprout', 'api-token'), 'utf8').trim();
    expect(logsFrom([], { SPROUT_API_TOKEN: token }).stdout).toContain('stdout order 5 received');
    const wrong = logsFrom([], { SPROUT_API_TOKEN: token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/SPROUT_ERR_HTTP_UNAUTHORIZED: wrong API token/);

    // Every line sprout dev logged is JSON with each key once.
    for (const l of d.logs) assertNoDuplicateKeys(l);
  });
});
