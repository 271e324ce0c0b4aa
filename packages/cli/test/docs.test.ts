import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './sprout.js';

// The READMEs cannot drift from the code: every code block marked runnable (```sh runnable,
// ```ts runnable) is run here as a user would run it from the repository root, and a block that
// names a file on its first line (`// examples/hello/index.ts`) must show that file as it is.

const readmes = [
  'README.md',
  ...['packages', 'examples'].flatMap((dir) =>
    readdirSync(join(root, dir))
      .map((name) => `${dir}/${name}/README.md`)
      .filter((file) => existsSync(join(root, file))),
  ),
];

interface Block {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  runnable: boolean;
  text: string;
}

/** The fenced code blocks of a Markdown file. */
function codeBlocks(file: string, markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})\s*([^`]*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, fence, info = ''] = open;
    const [lang = '', ...words] = info.trim().split(/\s+/);
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.startsWith(fence!)) body.push(lines[j++]!);
    blocks.push({
      file,
      line: i + 1,
      lang,
      runnable: words.includes('runnable'),
      text: body.join('\n') + '\n',
    });
    i = j;
  }
  return blocks;
}

const all = readmes.flatMap((file) => codeBlocks(file, readFileSync(join(root, file), 'utf8')));
const runnable = all.filter((b) => b.runnable);
const where = (b: Block) => `${b.file}:${b.line}`;

/**
 * A scratch repository root: the repository's top-level entries linked, `examples/` copied (blocks
 * may write beside them) and no `.sprout`, so every block starts with a data dir of its own.
 */
function scratchRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-docs-'));
  for (const name of readdirSync(root)) {
    if (name === '.git' || name === '.sprout' || name === 'examples') continue;
    symlinkSync(join(root, name), join(dir, name));
  }
  cpSync(join(root, 'examples'), join(dir, 'examples'), { recursive: true });
  return dir;
}

// What a shell block runs with: job control as in a terminal (`cmd &` is a job of its own that
// `kill %1` stops whole, npx and the node under it), stop at the first failing command, and a curl
// that fails on an HTTP error and, while a server started in the background is not listening yet,
// retries the connection quietly for 30 s (a user typing the next line gives it that time).
const prelude = `set -m -eo pipefail
curl() {
  local i rc=0 err
  err=$(mktemp)
  for ((i = 0; i < 150; i++)); do
    command curl -sS --fail-with-body "$@" 2>"$err" && { rm -f "$err"; return 0; } || rc=$?
    [ "$rc" = 7 ] || break
    sleep 0.2
  done
  cat "$err" >&2; rm -f "$err"
  return "$rc"
}
`;

/** The user's PATH: without the node_modules/.bin folders npm adds, so `sprout` alone is not found. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  env.PATH = (env.PATH ?? '')
    .split(delimiter)
    .filter((p) => !p.endsWith(join('node_modules', '.bin')))
    .join(delimiter);
  for (const k of Object.keys(env)) if (k.startsWith('npm_') || k === 'SPROUT_DATA_DIR') delete env[k];
  delete env.NODE_OPTIONS;
  return env;
}

/**
 * Fails with a clear message when a port the block's own servers listen on is taken: the loopback
 * ports its curl lines call (a block curls what it started; services it uses, such as PostgreSQL in
 * a connection string, are not on curl lines).
 */
async function assertPortsFree(block: Block): Promise<void> {
  const curls = block.text.split('\n').filter((l) => /^\s*curl\b/.test(l));
  const ports = new Set(
    curls.flatMap((l) =>
      [...l.matchAll(/(?:localhost|127\.\d+\.\d+\.\d+):(\d{2,5})\b/g)].map((m) => Number(m[1])),
    ),
  );
  for (const port of ports) {
    await new Promise<void>((resolve, reject) => {
      const s = createServer();
      s.once('error', () =>
        reject(
          new Error(
            `${where(block)} needs port ${port}, which something on this machine listens on; stop it`,
          ),
        ),
      );
      s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
    });
  }
}

/** Every process whose environment carries `marker` (what a block started, however detached). */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(marker))
        pids.push(Number(name));
    } catch {
      // Gone, or not ours.
    }
  }
  return pids;
}

async function stopAll(marker: string): Promise<void> {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const pids = processesWith(marker);
    if (!pids.length) return;
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // Already exited.
      }
    }
    for (let i = 0; i < 20 && processesWith(marker).length; i++) await new Promise((r) => setTimeout(r, 100));
  }
}

const TIMEOUT_MS = 90_000;

/** Runs one block in a scratch root; resolves with its exit code and output. */
async function run(block: Block): Promise<{ code: number | null; output: string }> {
  const dir = scratchRoot();
  const marker = `SPROUT_DOCS_BLOCK=${randomUUID()}`;
  let argv: string[];
  if (block.lang === 'ts') {
    const file = join(dir, `readme-${block.line}.mts`);
    writeFileSync(file, block.text);
    argv = ['npx', 'tsx', relative(dir, file)];
  } else {
    argv = ['bash', '--noprofile', '--norc', '-c', prelude + block.text];
  }
  const [name, value] = marker.split('=') as [string, string];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: dir,
    env: { ...userEnv(), [name]: value },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => {
    output += `\n[docs test: still running after ${TIMEOUT_MS / 1000} s; stopped]`;
    void stopAll(marker);
  }, TIMEOUT_MS);
  try {
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    return { code, output };
  } finally {
    clearTimeout(timer);
    // Servers a block left running in the background stop with it.
    await stopAll(marker);
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('README code blocks', () => {
  it('finds runnable blocks in the READMEs, each a shell or TypeScript block', () => {
    expect(runnable.length).toBeGreaterThan(5);
    for (const b of runnable) expect(['sh', 'ts'], where(b)).toContain(b.lang);
  });

  it('keeps the first two commands of the root README, the entry points, as they are', () => {
    const [first, second] = all.filter((b) => b.file === 'README.md');
    expect(first!.text.trim()).toMatch(/^bash scripts\/setup\.sh && npx sprout dev examples\/hello\s+#/);
    expect(second!.text.trim()).toMatch(/^bash scripts\/test\.sh\s+#/);
  });

  // A first line `// <path>` or `# <path>` naming a file under examples/ or packages/ quotes it.
  const quoted = (b: Block) =>
    /^(?:\/\/|#) ((?:examples|packages)\/[\w./-]+\.\w+)$/.exec(b.text.split('\n')[0]!)?.[1];
  const quoting = all.filter((b) => quoted(b) !== undefined);
  it('finds the blocks that quote a file (the root README shows examples/hello/index.ts)', () => {
    expect(quoting.map((b) => `${b.file} ${quoted(b)}`)).toContain('README.md examples/hello/index.ts');
  });
  it.each(quoting.map((b) => [where(b), b] as const))('%s shows its file as it is', (_w, b) => {
    const file = quoted(b)!;
    expect(existsSync(join(root, file)), `${where(b)} quotes ${file}, which does not exist`).toBe(true);
    const body = b.text.slice(b.text.indexOf('\n') + 1);
    expect(body, `${where(b)} differs from ${file}`).toBe(readFileSync(join(root, file), 'utf8'));
  });

  it('the collector README says how sprout dev feeds it, with the tags the platform gives records', () => {
    const telemetry = readFileSync(join(root, 'packages/platform/src/telemetry.ts'), 'utf8');
    const collector = readFileSync(join(root, 'packages/collector/README.md'), 'utf8');
    const metricsTag = /GATEWAY_METRICS_TAG = '([^']+)'/.exec(telemetry)?.[1];
    expect(metricsTag).toBe('sprout.gateway.metrics');
    expect(collector).toContain(`\`${metricsTag}\``);
    expect(telemetry).toContain('return `fn.${namespace}.${fn}`;');
    expect(collector).toContain('`fn.<namespace>.<function>`');
    for (const file of readmes)
      expect(readFileSync(join(root, file), 'utf8'), file).not.toMatch(
        /platform (?:itself )?does not exist|waits for the platform/,
      );
  });

  it.each(runnable.map((b) => [where(b), b] as const))(
    '%s runs',
    async (_w, b) => {
      await assertPortsFree(b);
      const { code, output } = await run(b);
      expect(code, `${where(b)} exited ${code}:\n${b.text}\n--- output ---\n${output.slice(-4000)}`).toBe(0);
    },
    TIMEOUT_MS + 10_000,
  );
});
