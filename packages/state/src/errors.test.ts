import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isSproutError } from '@sprout/http';
import { STATE_ERROR_CODES, StateError } from './errors.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const readme = readFileSync(join(here, '..', 'README.md'), 'utf8');
const section = readme.slice(
  readme.indexOf('## Error codes'),
  readme.indexOf('\n## ', readme.indexOf('## Error codes') + 5),
);
const rows = [
  ...section.matchAll(
    /^\| `(SPROUT_ERR_STATE_[A-Z_]+)` +\| (\d{3}) +\| ((?:[^|\\]|\\.)+) \| ((?:[^|\\]|\\.)+) \|$/gm,
  ),
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

describe('error codes', () => {
  it('the README documents exactly the codes in errors.ts, with their HTTP status and a fix', () => {
    expect(rows.map((r) => r[1]).sort()).toEqual(Object.keys(STATE_ERROR_CODES).sort());
    for (const [, code, status, when, fix] of rows) {
      expect(Number(status), code).toBe(STATE_ERROR_CODES[code as keyof typeof STATE_ERROR_CODES].status);
      expect(when!.trim().length, code).toBeGreaterThan(10);
      expect(fix!.trim().length, code).toBeGreaterThan(10);
    }
  });

  it('every code is raised somewhere in the package', () => {
    const code = sources(here)
      .filter((f) => !f.endsWith('errors.ts'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    for (const c of Object.keys(STATE_ERROR_CODES)) expect(code, c).toContain(`'${c}'`);
  });

  it('a StateError carries code, key and status', () => {
    const e = new StateError('SPROUT_ERR_STATE_ETAG_MISMATCH', 'etag mismatch for key "k"', { field: 'k' });
    expect([e.code, e.field, e.key, e.status, e.name]).toEqual([
      'SPROUT_ERR_STATE_ETAG_MISMATCH',
      'k',
      'k',
      409,
      'StateError',
    ]);
    expect(isSproutError(e, 'SPROUT_ERR_STATE_ETAG_MISMATCH')).toBe(true);
    expect(e.toJSON()).toEqual({
      error: { code: 'SPROUT_ERR_STATE_ETAG_MISMATCH', message: 'etag mismatch for key "k"', field: 'k' },
    });
  });
});
