import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRng } from '@sprout/http/testing';
import { isBuilderError } from '../errors.js';
import { copySource, fetchGitSource, parseSource } from './source.js';

const root = mkdtempSync(join(tmpdir(), 'sprout-source-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('parseSource: dir | git-url[#ref][:subdir]', () => {
  const cases: [string, ReturnType<typeof parseSource>][] = [
    ['.', { kind: 'dir', dir: '.' }],
    ['./app#x', { kind: 'dir', dir: './app#x' }],
    ['https://git.example.com/a/b.git', { kind: 'git', url: 'https://git.example.com/a/b.git' }],
    ['https://git.example.com/a/b#v1.2', { kind: 'git', url: 'https://git.example.com/a/b', ref: 'v1.2' }],
    [
      'https://h/a.git#main:fn/hello',
      { kind: 'git', url: 'https://h/a.git', ref: 'main', subdir: 'fn/hello' },
    ],
    ['git@github.com:o/r.git#:sub', { kind: 'git', url: 'git@github.com:o/r.git', subdir: 'sub' }],
    ['/srv/repos/app.git#abc123', { kind: 'git', url: '/srv/repos/app.git', ref: 'abc123' }],
    ['file:///srv/app#dev', { kind: 'git', url: 'file:///srv/app', ref: 'dev' }],
  ];
  for (const [text, want] of cases) it(text, () => expect(parseSource(text)).toEqual(want));

  it('refuses a ref that git would read as an option', () => {
    expect(() => parseSource('https://h/a.git#--upload-pack=x')).toThrow(
      expect.objectContaining({ code: 'SPROUT_ERR_BUILDER_SOURCE_INVALID' }),
    );
  });

  it('fuzzed sources parse or give a coded error', () => {
    const rng = seededRng();
    const deadline = Date.now() + 200;
    const parts = ['https://', 'h/', 'a.git', '#', ':', '-', 'main', '/', '..', ' ', '\0', 'git@x:'];
    while (Date.now() < deadline) {
      const text = Array.from({ length: rng.int(0, 8) }, () =>
        rng.next() < 0.8 ? rng.pick(parts) : rng.bytes(2).toString('latin1'),
      ).join('');
      try {
        const s = parseSource(text);
        if (s.kind === 'git') expect(s.ref?.startsWith('-') ?? false, `seed ${rng.seed}`).toBe(false);
      } catch (err) {
        expect(
          isBuilderError(err, 'SPROUT_ERR_BUILDER_SOURCE_INVALID'),
          `seed ${rng.seed}: ${String(err)}`,
        ).toBe(true);
      }
    }
  });
});

describe('fetchGitSource', () => {
  it('checks out a branch of a local repository; a sub-folder leaving the clone or missing is refused', async () => {
    const repo = join(root, 'repo');
    mkdirSync(join(repo, 'fn'), { recursive: true });
    writeFileSync(join(repo, 'fn', 'index.js'), 'x');
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo });
    git('init', '-q', '-b', 'dev');
    git('add', '.');
    git('commit', '-q', '-m', 'x');
    const ok = await fetchGitSource(
      { kind: 'git', url: repo, ref: 'dev', subdir: 'fn' },
      join(root, 'clone-ok'),
    );
    expect(existsSync(join(ok.dir, 'index.js'))).toBe(true);
    expect(ok.project.version?.commit).toMatch(/^[0-9a-f]{40}$/);
    for (const [i, subdir] of ['../..', 'nope'].entries()) {
      const err = await fetchGitSource(
        { kind: 'git', url: repo, ref: 'dev', subdir },
        join(root, `clone-${i}`),
      ).catch((e: unknown) => e);
      expect(isBuilderError(err, 'SPROUT_ERR_BUILDER_SOURCE_INVALID'), subdir).toBe(true);
    }
    const noRef = await fetchGitSource(
      { kind: 'git', url: repo, ref: 'missing' },
      join(root, 'clone-r'),
    ).catch((e: unknown) => e);
    expect(isBuilderError(noRef, 'SPROUT_ERR_BUILDER_GIT_FAILED')).toBe(true);
  });

  it("refuses git's ext:: transport (it runs a command) with a coded error", async () => {
    const marker = join(root, 'ext-ran');
    const err = await fetchGitSource(
      { kind: 'git', url: `ext::sh -c touch% ${marker}` },
      join(root, 'ext-clone'),
    ).catch((e: unknown) => e);
    expect(isBuilderError(err, 'SPROUT_ERR_BUILDER_GIT_FAILED')).toBe(true);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('copySource', () => {
  it('copies files and inner links; leaves out .git, node_modules and .sprout; refuses links out of the tree', () => {
    const src = join(root, 'src');
    mkdirSync(join(src, 'lib', 'node_modules', 'x'), { recursive: true });
    mkdirSync(join(src, '.git'), { recursive: true });
    writeFileSync(join(src, 'lib', 'a.js'), 'a');
    writeFileSync(join(src, '.git', 'HEAD'), 'ref');
    symlinkSync('lib/a.js', join(src, 'inner'));
    const dest = join(root, 'dest');
    expect(copySource(src, dest)).toBe(1);
    expect(readlinkSync(join(dest, 'inner'))).toBe('lib/a.js');
    expect(lstatSync(join(dest, 'inner')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(dest, '.git'))).toBe(false);
    expect(existsSync(join(dest, 'lib', 'node_modules'))).toBe(false);
    // The data folder inside the source (its scratch space is under it) is left out.
    expect(copySource(src, join(root, 'dest2'), [join(src, 'lib')])).toBe(0);
    expect(existsSync(join(root, 'dest2', 'lib'))).toBe(false);

    for (const [name, target] of [
      ['up', '../outside'],
      ['abs', '/etc/passwd'],
      ['deep', 'lib/../../x'],
    ] as const) {
      const bad = join(root, `bad-${name}`);
      mkdirSync(bad, { recursive: true });
      symlinkSync(target, join(bad, 'link'));
      const err = (() => {
        try {
          copySource(bad, join(root, `out-${name}`));
        } catch (e) {
          return e;
        }
      })();
      expect(isBuilderError(err, 'SPROUT_ERR_BUILDER_SOURCE_INVALID'), name).toBe(true);
      expect((err as Error).message).toContain('outside the source folder');
    }
  });
});
