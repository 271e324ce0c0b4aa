import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// scripts/setup.sh run for real, in a scratch copy of the repository layout, with stand-ins for
// the slow tools on PATH (npm ci takes a minute and needs the network; dpkg-query says every
// Debian package is there). What is checked is the script's own output: never silent for long.
// The stand-in steps run until the test has seen the heartbeats it waits for (no clock is compared:
// a step that printed nothing would never be released, and the test would time out).
const setupSh = fileURLToPath(new URL('./setup.sh', import.meta.url));
const roots = [];
/** setup.sh runs, each in a process group of its own: a failed test ends the stand-ins it left waiting. */
const groups = [];
afterEach(() => {
  for (const pid of groups.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // the group has ended
    }
  }
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
  // npm ci: unpacks three packages, then works on, printing nothing (as with --loglevel=error),
  // until the file release-ci appears; the build likewise until release-build.
  tool(
    'npm',
    [
      'if [ "$1" = ci ]; then',
      '  rm -rf node_modules; mkdir -p node_modules',
      '  for i in 1 2 3; do mkdir -p node_modules/p$i; echo {} > node_modules/p$i/package.json; done',
      '  until [ -e release-ci ]; do sleep 0.1; done',
      'else until [ -e release-build ]; do sleep 0.1; done; fi',
    ].join('\n'),
  );
  return root;
}

/** Runs setup.sh and returns its lines and exit code; `onLine` sees each line of its output as it comes. */
function run(root, env, onLine = () => {}) {
  return new Promise((resolve) => {
    const lines = [];
    const child = spawn('bash', [join(root, 'scripts', 'setup.sh')], {
      cwd: root,
      env: { ...process.env, PATH: `${join(root, 'bin')}:${process.env.PATH}`, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    groups.push(child.pid);
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        onLine(lines.at(-1));
      }
    });
    child.stderr.on('data', (d) => lines.push(`stderr: ${d}`));
    child.on('exit', (code) => resolve({ code, lines }));
  });
}

describe('scripts/setup.sh', () => {
  it('prints a line at least every heartbeat while npm ci and the build run, with the packages so far', async () => {
    const root = scratch();
    // npm ci ends once two beats were seen, the last counting its three packages; the build after one.
    let npmBeats = 0;
    const { code, lines: texts } = await run(root, { SPROUT_SETUP_HEARTBEAT: '1', CI: '' }, (text) => {
      const npm = /^setup: installing npm dependencies: \d+ s, (\d+) packages in node_modules$/.exec(text);
      if (npm && ++npmBeats >= 2 && npm[1] === '3') writeFileSync(join(root, 'release-ci'), '');
      if (/^setup: building packages: \d+ s$/.test(text)) writeFileSync(join(root, 'release-build'), '');
    });
    expect(code, texts.join('\n')).toBe(0);
    expect(texts[0]).toMatch(/^setup: installing npm dependencies \(/);
    expect(
      texts.filter((t) => t.startsWith('setup: installing npm dependencies:')).length,
    ).toBeGreaterThanOrEqual(2);
    expect(texts.at(-1)).toBe('setup: done');
  });

  it('skips npm ci when the lock file has not changed, and fails when a step fails', async () => {
    const root = scratch();
    mkdirSync(join(root, 'node_modules'));
    copyFileSync(join(root, 'package-lock.json'), join(root, 'node_modules', '.sprout-lock-stamp'));
    writeFileSync(join(root, 'bin', 'npm'), '#!/usr/bin/env bash\nexit 7\n');
    const { code, lines } = await run(root, { SPROUT_SETUP_HEARTBEAT: '1' });
    expect(code).toBe(7);
    expect(lines).toEqual(['setup: building packages']);
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
