import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isSproutError } from '@sprout/http';
import { isTriggersError, TRIGGERS_ERROR_CODES, TriggersError, type TriggersErrorCode } from './errors.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const readme = readFileSync(join(here, '..', 'README.md'), 'utf8');
const start = readme.indexOf('## Error codes');
const end = readme.indexOf('\n## ', start + 5);
const section = readme.slice(start, end < 0 ? undefined : end);
const rows = [
  ...section.matchAll(
    /^\| `(SPROUT_ERR_TRIGGERS_[A-Z_]+)` +\| (\d{3}) +\| ((?:[^|\\]|\\.)+) \| ((?:[^|\\]|\\.)+) \|$/gm,
  ),
];

describe('error codes', () => {
  it('the README documents exactly the codes in errors.ts, with their HTTP status, when and how to fix', () => {
    expect(start).toBeGreaterThan(0);
    expect(rows.map((r) => r[1]).sort()).toEqual(Object.keys(TRIGGERS_ERROR_CODES).sort());
    for (const [, code, status, when, fix] of rows) {
      expect(Number(status), code).toBe(TRIGGERS_ERROR_CODES[code as TriggersErrorCode].status);
      expect(when!.trim().length, code).toBeGreaterThan(10);
      expect(fix!.trim().length, code).toBeGreaterThan(10);
    }
  });

  it('every code is SPROUT_ERR_TRIGGERS_<WHAT> with an HTTP error status', () => {
    for (const [code, { status }] of Object.entries(TRIGGERS_ERROR_CODES)) {
      expect(code).toMatch(/^SPROUT_ERR_TRIGGERS_[A-Z]+(_[A-Z]+)*$/);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
    }
  });

  it('a TriggersError carries code, field and the status of its code', () => {
    const e = new TriggersError('SPROUT_ERR_TRIGGERS_POLICY_INVALID', 'bad policy', { field: 'maxRetries' });
    expect([e.code, e.field, e.status, e.name]).toEqual([
      'SPROUT_ERR_TRIGGERS_POLICY_INVALID',
      'maxRetries',
      400,
      'TriggersError',
    ]);
    expect(isSproutError(e, 'SPROUT_ERR_TRIGGERS_POLICY_INVALID')).toBe(true);
    expect(isTriggersError(e, 'SPROUT_ERR_TRIGGERS_POLICY_INVALID')).toBe(true);
    expect(isTriggersError(e, 'SPROUT_ERR_TRIGGERS_CLOSED')).toBe(false);
    expect(isTriggersError(new Error('x'))).toBe(false);
    expect(e.toJSON()).toEqual({
      error: { code: 'SPROUT_ERR_TRIGGERS_POLICY_INVALID', message: 'bad policy', field: 'maxRetries' },
    });
  });
});
