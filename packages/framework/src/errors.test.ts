import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FrameworkErrorCodes } from './errors.js';

describe('error codes', () => {
  it('are each documented in the README with how to fix them, and the README lists no others', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = new Set(
      [...readme.matchAll(/^\| `(SPROUT_ERR_FRAMEWORK_\w+)` +\| *\S/gm)].map((m) => m[1]),
    );
    expect([...documented].sort()).toEqual(Object.keys(FrameworkErrorCodes).sort());
  });
});
