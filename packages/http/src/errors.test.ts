import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HTTP_ERROR_CODES } from './errors.js';

describe('error codes', () => {
  it('the README documents exactly the codes in errors.ts, with their status and a fix', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `(SPROUT_ERR_HTTP_[A-Z_]+)` +\| (\d{3}) +\|([^|]+)\|([^|]+)\|$/gm)];
    expect(rows.map((r) => r[1]).sort()).toEqual(Object.keys(HTTP_ERROR_CODES).sort());
    for (const [, code, status, when, fix] of rows) {
      expect(Number(status), code).toBe(HTTP_ERROR_CODES[code as keyof typeof HTTP_ERROR_CODES]);
      expect(when!.trim().length, code).toBeGreaterThan(10);
      expect(fix!.trim().length, code).toBeGreaterThan(10);
    }
  });
});
