import { spawn } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  copyFileSync,
  symlinkSync,
  existsSync,
  statSync,
} from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { insideDir } from '@sprout/http';
import { BuilderError } from '../errors.js';
import type { ProjectSource } from '../lifecycle/export.js';

/** A source as `sprout build` takes it: a folder, or a git URL with an optional ref and sub-folder. */
export type SourceSpec =
  { kind: 'dir'; dir: string } | { kind: 'git'; url: string; ref?: string; subdir?: string };

const GIT_URL = /^(https?:\/\/|ssh:\/\/|git:\/\/|file:\/\/|git@[^:]+:)/;

/**
 * Reads `dir | git-url[#ref][:subdir]` (Docker's spelling of a git build context): a URL (http(s),
 * ssh, git, file, `git@host:path`) or anything ending in `.git` is a repository; the rest a folder.
 */
export function parseSource(text: string): SourceSpec {
  const hash = text.indexOf('#');
  const base = hash >= 0 ? text.slice(0, hash) : text;
  if (!GIT_URL.test(base) && !/\.git\/?$/.test(base)) return { kind: 'dir', dir: text };
  const fragment = hash >= 0 ? text.slice(hash + 1) : '';
  const colon = fragment.indexOf(':');
  const ref = colon >= 0 ? fragment.slice(0, colon) : fragment;
  const subdir = colon >= 0 ? fragment.slice(colon + 1) : '';
  if (ref.startsWith('-') || /[\s\0]/.test(ref))
    throw new BuilderError(
      'SPROUT_ERR_BUILDER_SOURCE_INVALID',
      `git ref "${ref}" is not a branch, tag or commit`,
      { field: 'source' },
    );
  return { kind: 'git', url: base, ...(ref ? { ref } : {}), ...(subdir ? { subdir } : {}) };
}

function git(args: string[], cwd: string, signal?: AbortSignal): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('git', args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      // No password prompt; only the transports a source URL should use (not ext::, which runs a command).
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ALLOW_PROTOCOL: 'file:git:http:https:ssh' },
      ...(signal ? { signal } : {}),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', (e) =>
      reject(
        new BuilderError('SPROUT_ERR_BUILDER_GIT_FAILED', `git ${args[0]}: ${e.message}; is git installed?`, {
          field: 'source',
        }),
      ),
    );
    child.once('close', (code) =>
      code === 0
        ? resolvePromise(out.trim())
        : reject(
            new BuilderError(
              'SPROUT_ERR_BUILDER_GIT_FAILED',
              `git ${args[0]} failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' ')}; check the URL, the ref and your access to the repository`,
              { field: 'source' },
            ),
          ),
    );
  });
}

export interface FetchedSource {
  /** The folder to build (the sub-folder, for a repository). */
  dir: string;
  project: ProjectSource;
}

/** Clones a repository (the `git` command) into `into` and checks out the ref; returns the folder to build. */
export async function fetchGitSource(
  spec: Extract<SourceSpec, { kind: 'git' }>,
  into: string,
  signal?: AbortSignal,
): Promise<FetchedSource> {
  mkdirSync(into, { recursive: true });
  await git(['clone', '--quiet', '--no-checkout', '--', spec.url, into], into, signal);
  const ref = spec.ref ?? 'HEAD';
  // A branch of the remote exists here only as origin/<branch>.
  const commit = await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], into, signal).catch(() =>
    git(['rev-parse', '--verify', `origin/${ref}^{commit}`], into, signal),
  );
  await git(['checkout', '--quiet', '--detach', commit], into, signal);
  const dir = spec.subdir ? insideDirOrFail(into, spec.subdir) : into;
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new BuilderError(
      'SPROUT_ERR_BUILDER_SOURCE_INVALID',
      `${spec.subdir} is not a folder of ${spec.url} at ${spec.ref ?? 'HEAD'}`,
      { field: 'source' },
    );
  return {
    dir,
    project: {
      type: 'git',
      version: { commit },
      metadata: {
        repository: spec.url,
        ...(spec.ref ? { revision: spec.ref } : {}),
        ...(spec.subdir ? { sourceSubPath: spec.subdir } : {}),
      },
    },
  };
}

function insideDirOrFail(root: string, sub: string): string {
  try {
    return insideDir(root, sub, 'sub-folder');
  } catch (err) {
    throw new BuilderError('SPROUT_ERR_BUILDER_SOURCE_INVALID', (err as Error).message, { field: 'source' });
  }
}

/** Folders of a source never copied into the image: version control, installed packages, Sprout's data. */
const SKIPPED = new Set(['.git', 'node_modules', '.sprout']);

/**
 * Copies the source tree into `dest` (the app folder the buildpacks work on). A symbolic link is
 * copied as a link when it stays inside the tree; one that points out of it is refused, as are
 * sockets and devices. `.git`, `node_modules` and `.sprout` at any depth are left out, and so are
 * the `exclude` paths (the data folder, when it lies inside the source).
 */
export function copySource(src: string, dest: string, exclude: string[] = []): number {
  const root = resolve(src);
  const excluded = new Set(exclude.map((p) => resolve(p)));
  let files = 0;
  const walk = (from: string, to: string) => {
    mkdirSync(to, { recursive: true });
    for (const name of readdirSync(from).sort()) {
      const f = join(from, name);
      if (SKIPPED.has(name) || excluded.has(f)) continue;
      const t = join(to, name);
      const st = lstatSync(f);
      if (st.isSymbolicLink()) {
        const link = readlinkSync(f);
        const target = isAbsolute(link) ? link : resolve(dirname(f), link);
        const rel = relative(root, target);
        if (isAbsolute(link) || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
          throw new BuilderError(
            'SPROUT_ERR_BUILDER_SOURCE_INVALID',
            `${relative(root, f)} is a symbolic link to ${link}, outside the source folder; copy the file in instead, or make the link relative inside the folder`,
            { field: 'source' },
          );
        symlinkSync(link, t);
      } else if (st.isDirectory()) walk(f, t);
      else if (st.isFile()) {
        copyFileSync(f, t);
        files++;
      } else
        throw new BuilderError(
          'SPROUT_ERR_BUILDER_SOURCE_INVALID',
          `${relative(root, f)} is a socket, FIFO or device; remove it from the source`,
          {
            field: 'source',
          },
        );
    }
  };
  walk(root, dest);
  return files;
}
