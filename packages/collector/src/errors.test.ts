import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { errorCodes } from './errors.js';

describe('error codes', () => {
  it('README lists every code with its how-to-fix text, and nothing else', () => {
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    const listed = [...readme.matchAll(/^\| `(SPROUT_ERR_COLLECTOR_[A-Z_]+)` *\| (.+?) *\|$/gm)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(Object.fromEntries(listed)).toEqual(errorCodes);
  });
});
