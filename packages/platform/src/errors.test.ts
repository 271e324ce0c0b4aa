import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PLATFORM_ERROR_CODES } from './errors.js';

describe('error codes', () => {
  it('are each documented in the README with how to fix them, and the README lists no others', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `(SPROUT_ERR_PLATFORM_[A-Z_]+)` +\|([^|]+)\|([^|]+)\|/gm)];
    const documented = rows.map((r) => r[1]);
    expect([...documented].sort()).toEqual([...PLATFORM_ERROR_CODES].sort());
    for (const r of rows) expect(r[3]!.trim().length, `${r[1]} needs a how-to-fix`).toBeGreaterThan(10);
  });
});
