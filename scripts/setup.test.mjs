import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// scripts/setup.sh run for real, in a scratch copy of the repository layout, with stand-ins for
// the slow tools on PATH (npm ci takes a minute and needs the network; dpkg-query says every
// Debian package is there). What is checked is the script's own output: never silent for long.
const setupSh = fileURLToPath(new URL('./setup.sh', import.meta.url));
const roots = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function scratch() {
  const root = mkdtempSync(join(tmpdir(), 'sprout-setup-'));
  roots.push(root);
  mkdirSync(join(root, 'scripts'));
  mkdirSync(join(root, 'bin'));
  copyFileSync(setupSh, join(root, 'scripts', 'setup.sh'));
  writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion":3}\n');
  const tool = (name, body) => {
    writeFileSync(join(root, 'bin', name), `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(join(root, 'bin', name), 0o755);
  };
  tool('dpkg-query', "printf 'install ok installed'");
  // npm ci: unpacks a package every half second for 3 s, prints nothing (as with --loglevel=error).
  tool(
    'npm',
    [
      'if [ "$1" = ci ]; then',
      '  rm -rf node_modules; mkdir -p node_modules',
      '  for i in 1 2 3 4 5 6; do sleep 0.5; mkdir -p node_modules/p$i; echo {} > node_modules/p$i/package.json; done',
      'else sleep 2.2; fi',
    ].join('\n'),
  );
  return root;
}

/** Runs setup.sh and returns its lines with the time each arrived (ms since start) and the exit code. */
function run(root, env) {
  return new Promise((resolve) => {
    const started = Date.now();
    const lines = [];
    const child = spawn('bash', [join(root, 'scripts', 'setup.sh')], {
      cwd: root,
      env: { ...process.env, PATH: `${join(root, 'bin')}:${process.env.PATH}`, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push({ at: Date.now() - started, text: buf.slice(0, i) });
        buf = buf.slice(i + 1);
      }
    });
    child.stderr.on('data', (d) => lines.push({ at: Date.now() - started, text: `stderr: ${d}` }));
    child.on('exit', (code) => resolve({ code, lines, total: Date.now() - started }));
  });
}

describe('scripts/setup.sh', () => {
  it('prints a line at least every heartbeat while npm ci and the build run, with the packages so far', async () => {
    const root = scratch();
    const { code, lines, total } = await run(root, { SPROUT_SETUP_HEARTBEAT: '1', CI: '' });
    expect(code, JSON.stringify(lines)).toBe(0);
    const texts = lines.map((l) => l.text);
    expect(texts[0]).toMatch(/^setup: installing npm dependencies/);
    const beats = texts.filter((t) =>
      /^setup: installing npm dependencies: \d+ s, \d+ packages in node_modules$/.test(t),
    );
    expect(beats.length, texts.join('\n')).toBeGreaterThanOrEqual(2);
    expect(texts.filter((t) => /^setup: building packages: \d+ s$/.test(t)).length).toBeGreaterThanOrEqual(1);
    expect(texts.at(-1)).toBe('setup: done');
    // No silence longer than the heartbeat (1 s) plus scheduling slack, from start to exit.
    const times = [0, ...lines.map((l) => l.at), total];
    const longest = Math.max(...times.slice(1).map((t, i) => t - times[i]));
    expect(longest, texts.join('\n')).toBeLessThan(2_000);
  });

  it('skips npm ci when the lock file has not changed, and fails when a step fails', async () => {
    const root = scratch();
    mkdirSync(join(root, 'node_modules'));
    copyFileSync(join(root, 'package-lock.json'), join(root, 'node_modules', '.sprout-lock-stamp'));
    writeFileSync(join(root, 'bin', 'npm'), '#!/usr/bin/env bash\nexit 7\n');
    const { code, lines } = await run(root, { SPROUT_SETUP_HEARTBEAT: '1' });
    expect(code).toBe(7);
    expect(lines.map((l) => l.text)).toEqual(['setup: building packages']);
  });

  it('beats every 10 s under CI=true unless told otherwise', async () => {
    const { code, lines } = await new Promise((resolve) => {
      const lines = [];
      const child = spawn('bash', ['-c', `source '${setupSh}'; with_heartbeat nap sleep 2.5`], {
        env: { ...process.env, CI: 'true', SPROUT_SETUP_HEARTBEAT: '' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child.stdout.on('data', (d) => lines.push(...d.toString().split('\n').filter(Boolean)));
      child.on('exit', (code) => resolve({ code, lines }));
    });
    expect(code).toBe(0);
    expect(lines).toEqual([]);
  });
});
