import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONSOLE_ERROR_CODES } from './errors.js';

describe('console error codes', () => {
  it("the README documents exactly the console server's codes, with their status and a fix", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    // The cluster installer's codes (SPROUT_ERR_CONSOLE_CLUSTER_*) have their own table and test.
    const rows = [
      ...readme.matchAll(
        /^\| `(SPROUT_ERR_CONSOLE_(?!CLUSTER_)[A-Z_]+)` +\| (\d{3}) +\|([^|]+)\|([^|]+)\|$/gm,
      ),
    ];
    expect(rows.map((r) => r[1]).sort()).toEqual(Object.keys(CONSOLE_ERROR_CODES).sort());
    for (const [, code, status, when, fix] of rows) {
      expect(Number(status), code).toBe(CONSOLE_ERROR_CODES[code as keyof typeof CONSOLE_ERROR_CODES].status);
      expect(when!.trim().length, code).toBeGreaterThan(10);
      expect(fix!.trim().length, code).toBeGreaterThan(10);
    }
  });
});
