// `sprout init` never overwrites a file unless told to, and says what to do instead.
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain } from './main-io.js';
import { runSprout } from './sprout.js';

const work = mkdtempSync(join(tmpdir(), 'sprout-init-files-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const init = (...args: string[]) => runMain(['init', ...args], { cwd: work });

describe('sprout init and existing files', () => {
  it('refuses to overwrite, writing nothing, and names the files and --force', async () => {
    expect((await init('fn')).code).toBe(0);
    const dir = join(work, 'fn');
    writeFileSync(join(dir, 'index.js'), 'export const mine = () => "mine";\n');
    unlinkSync(join(dir, 'README.md'));
    const again = await init('fn', '--template', 'openfunction');
    expect(again.code).toBe(1);
    expect(again.err).toBe(
      'error: SPROUT_ERR_CLI_INIT_EXISTS: fn already has function.yaml, index.js, index.test.js, package.json; ' +
        'nothing was written. Pass --force to overwrite them, or give another folder\n',
    );
    expect(again.out).toBe('');
    expect(readFileSync(join(dir, 'index.js'), 'utf8')).toContain('mine');
    expect(existsSync(join(dir, 'README.md'))).toBe(false);
  });

  it('overwrites with --force and says which files it replaced', async () => {
    expect((await init('forced')).code).toBe(0);
    const dir = join(work, 'forced');
    writeFileSync(join(dir, 'index.js'), 'export const mine = () => "mine";\n');
    unlinkSync(join(dir, 'README.md'));
    const r = await init('forced', '--template', 'openfunction', '--force');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}index\.js .*\(overwritten\)$/m);
    expect(r.out).toMatch(/^ {2}README\.md +how to run it$/m);
    expect(readFileSync(join(dir, 'index.js'), 'utf8')).toContain('export async function handler(ctx, data)');
    expect(readFileSync(join(dir, 'function.yaml'), 'utf8')).toContain(
      'FUNCTION_SIGNATURE_TYPE: openfunction',
    );
  });

  it('writes into the current folder by default, named after it', async () => {
    const dir = mkdtempSync(join(work, 'Here_And Now-'));
    const r = await runMain(['init'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Created http function "here-and-now-\w+" in \.:$/m);
    expect(r.out).toContain('  npx sprout dev .\n');
    expect(r.out).toContain('  npm install && npm test    # its test\n');
  });

  it('refuses a file where the folder should be, an unknown template and two folders', async () => {
    writeFileSync(join(work, 'a-file'), 'x');
    const file = await init('a-file');
    expect(file.code).toBe(1);
    expect(file.err).toMatch(/^error: SPROUT_ERR_CLI_INIT_NOT_A_FOLDER: a-file is a file, not a folder/);
    const unknown = await init('x', '--template', 'python');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(
      /unknown template 'python': use one of http, typescript, cloudevent, openfunction, async, state/,
    );
    expect(existsSync(join(work, 'x'))).toBe(false);
    expect((await init('a', 'b')).code).toBe(2);
  });

  it('runs from the built command, finding its templates, and lists them in --help', () => {
    const dir = join(work, 'built');
    const r = runSprout(['init', dir, '-t', 'typescript']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'index.ts'), 'utf8')).toContain(
      'export function hello(req: SproutRequest)',
    );
    const help = runSprout(['init', '--help']).stdout;
    for (const t of ['http', 'typescript', 'cloudevent', 'openfunction', 'async', 'state'])
      expect(help).toMatch(new RegExp(`^ {2}${t} +\\S`, 'm'));
    expect(help).toMatch(/--force +Overwrite/);
    expect(runSprout(['--help']).stdout).toMatch(/^ {2}init +Create a function folder/m);
  });
});
