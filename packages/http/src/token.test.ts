import { chmodSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateToken, readToken, tokenMatches, TOKEN_FILE } from './token.js';

const dir = () => mkdtempSync(join(tmpdir(), 'sprout-http-token-'));

describe('API token file', () => {
  it('is generated once, 0600 in a 0700 dir, and read back on the next start', () => {
    const d = join(dir(), 'data');
    const first = loadOrCreateToken(d);
    expect(first.created).toBe(true);
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(statSync(d).mode & 0o077).toBe(0);
    expect(readFileSync(join(d, TOKEN_FILE), 'utf8')).toBe(`${first.token}\n`);
    const again = loadOrCreateToken(d);
    expect(again).toEqual({ token: first.token, file: first.file, created: false });
    expect(readToken(d)).toBe(first.token);
    expect(loadOrCreateToken(dir()).token).not.toBe(first.token);
  });

  it('is undefined for a client when there is none', () => {
    expect(readToken(dir())).toBeUndefined();
  });

  it('refuses a file others may read, a symbolic link and a file with no token', () => {
    const d = dir();
    const { file } = loadOrCreateToken(d);
    chmodSync(file, 0o644);
    expect(() => readToken(d)).toThrow(/chmod 600/);
    expect(() => loadOrCreateToken(d)).toThrow(
      expect.objectContaining({ code: 'SPROUT_ERR_HTTP_TOKEN_FILE' }),
    );
    const l = dir();
    const elsewhere = join(dir(), 't');
    writeFileSync(elsewhere, `${'x'.repeat(43)}\n`, { mode: 0o600 });
    symlinkSync(elsewhere, join(l, TOKEN_FILE));
    expect(() => readToken(l)).toThrow(/not a regular file/);
    const e = dir();
    writeFileSync(join(e, TOKEN_FILE), 'short\n', { mode: 0o600 });
    expect(() => readToken(e)).toThrow(expect.objectContaining({ code: 'SPROUT_ERR_HTTP_TOKEN_FILE' }));
  });

  it('compares tokens whole: same length but different, prefixes and missing do not match', () => {
    const t = 'k'.repeat(43);
    expect(tokenMatches(t, t)).toBe(true);
    expect(tokenMatches(`${'k'.repeat(42)}j`, t)).toBe(false);
    expect(tokenMatches(t.slice(1), t)).toBe(false);
    expect(tokenMatches('', t)).toBe(false);
    expect(tokenMatches(undefined, t)).toBe(false);
  });
});
