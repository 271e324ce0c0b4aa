import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLUSTER_ERROR_CODES } from './errors.js';

describe('cluster installer error codes', () => {
  it('the README documents exactly these codes, with their status, when and what to do', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = [
      ...readme.matchAll(/^\| `(SPROUT_ERR_CONSOLE_CLUSTER_[A-Z_]+)` +\| (\d{3}) +\|([^|]+)\|([^|]+)\|$/gm),
    ];
    expect(rows.map((r) => r[1]).sort()).toEqual(Object.keys(CLUSTER_ERROR_CODES).sort());
    for (const [, code, status, when, fix] of rows) {
      expect(Number(status), code).toBe(CLUSTER_ERROR_CODES[code as keyof typeof CLUSTER_ERROR_CODES].status);
      expect(when!.trim().length, code).toBeGreaterThan(10);
      expect(fix!.trim().length, code).toBeGreaterThan(10);
    }
  });
});
