import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isSproutError, SproutError } from '@sprout/http';
import { SPEC_ERROR_CODES, SpecError, type SpecErrorCode } from './index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const readme = readFileSync(join(here, '..', 'README.md'), 'utf8');
const start = readme.indexOf('## Error codes');
const section = readme.slice(start, readme.indexOf('\n## ', start + 5));
/** Rows of the README's error table: code, when, how to fix. */
const rows = [...section.matchAll(/^\| `(SPROUT_ERR_SPEC_[A-Z_]+)` +\| (.+?) +\| (.+?) +\|$/gm)].map(
  ([, code, when, fix]) => ({ code: code!, when: when!, fix: fix! }),
);

const sources = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'errors.ts')
    .map((f) => join(dir, f));

describe('error codes', () => {
  it('the README table lists exactly the codes in errors.ts', () => {
    expect(start).toBeGreaterThan(0);
    expect(rows.map((r) => r.code).sort()).toEqual(Object.keys(SPEC_ERROR_CODES).sort());
  });

  it('each README row says when and how to fix, in the words of errors.ts', () => {
    for (const { code, when, fix } of rows) {
      expect(when.length, code).toBeGreaterThan(10);
      expect(fix.length, code).toBeGreaterThan(10);
      expect(`${when}: ${fix}`, code).toBe(SPEC_ERROR_CODES[code as SpecErrorCode]);
    }
  });

  it('every code is raised somewhere in the package', () => {
    const code = sources(here)
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    for (const c of Object.keys(SPEC_ERROR_CODES)) expect(code, c).toContain(`'${c}'`);
  });

  it('a SpecError is a SproutError with code, field and a JSON body', () => {
    const e = new SpecError('SPROUT_ERR_SPEC_UNSUPPORTED_FIELD', 'fn.yaml:8: field "spec.serving.hooks" …', {
      field: 'spec.serving.hooks',
    });
    expect(e).toBeInstanceOf(SproutError);
    expect([e.name, e.code, e.field, e.status]).toEqual([
      'SpecError',
      'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
      'spec.serving.hooks',
      400,
    ]);
    expect(isSproutError(e, 'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD')).toBe(true);
    expect(e.toJSON()).toEqual({
      error: {
        code: 'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
        message: 'fn.yaml:8: field "spec.serving.hooks" …',
        field: 'spec.serving.hooks',
      },
    });
  });
});
