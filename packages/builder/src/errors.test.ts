import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isSproutError } from '@sprout/http';
import { BUILDER_ERROR_CODES, BuilderError, isBuilderError, type BuilderErrorCode } from './errors.js';

/** The README's "Error codes" table as [code, status, when, fix] rows. */
function documentedCodes(): string[][] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const table = readme.slice(readme.indexOf('## Error codes')).split(/\n## /)[0]!;
  return table
    .split('\n')
    .map((line) => line.split(/(?<!\\)\|/).map((cell) => cell.trim()))
    .filter((cells) => /^`SPROUT_ERR_BUILDER_/.test(cells[1] ?? ''))
    .map((cells) => [cells[1]!.slice(1, -1), cells[2]!, cells[3]!, cells[4]!]);
}

describe('builder error codes', () => {
  it('the README lists exactly the codes of errors.ts, each with its status, when it happens and the fix', () => {
    const rows = documentedCodes();
    expect(rows.map(([code]) => code).sort()).toEqual(Object.keys(BUILDER_ERROR_CODES).sort());
    for (const [code, status, when, fix] of rows) {
      expect(Number(status), code).toBe(BUILDER_ERROR_CODES[code as BuilderErrorCode].status);
      expect(when!.length, `${code}: when`).toBeGreaterThan(10);
      expect(fix!.length, `${code}: fix`).toBeGreaterThan(10);
    }
  });

  it('codes are SPROUT_ERR_BUILDER_<WHAT> with a 4xx/5xx status; the class carries code, field and status', () => {
    for (const [code, { status }] of Object.entries(BUILDER_ERROR_CODES)) {
      expect(code).toMatch(/^SPROUT_ERR_BUILDER_[A-Z]+(_[A-Z]+)*$/);
      expect(status >= 400 && status < 600, code).toBe(true);
    }
    const err = new BuilderError('SPROUT_ERR_BUILDER_BLOB_MISSING', 'no blob', { field: 'digest' });
    expect([err.name, err.status, err.field]).toEqual(['BuilderError', 404, 'digest']);
    expect(isSproutError(err, 'SPROUT_ERR_BUILDER_BLOB_MISSING')).toBe(true);
    expect(isBuilderError(err, 'SPROUT_ERR_BUILDER_LAYOUT_INVALID')).toBe(false);
    expect(isBuilderError(new Error('no'))).toBe(false);
  });
});
