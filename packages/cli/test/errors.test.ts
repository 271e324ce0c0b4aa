import { readFileSync } from 'node:fs';
import { isSproutError } from '@sprout/http';
import { describe, expect, it } from 'vitest';
import { CLI_ERROR_CODES, CliError } from '../src/errors.js';

describe('CliError', () => {
  it('is a SproutError with its code, status, field and JSON body', () => {
    const err = new CliError('SPROUT_ERR_CLI_INIT_EXISTS', 'fn already has index.js', { field: 'index.js' });
    expect(isSproutError(err, 'SPROUT_ERR_CLI_INIT_EXISTS')).toBe(true);
    expect(err).toMatchObject({ name: 'CliError', status: 409, field: 'index.js' });
    expect(err.toJSON()).toEqual({
      error: { code: 'SPROUT_ERR_CLI_INIT_EXISTS', message: 'fn already has index.js', field: 'index.js' },
    });
  });

  it('has every code listed in the README, and the README lists no other', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = [
      ...new Set([...readme.matchAll(/^\| `(SPROUT_ERR_CLI_[A-Z_]+)`/gm)].map((m) => m[1])),
    ];
    expect(documented.sort()).toEqual(Object.keys(CLI_ERROR_CODES).sort());
  });
});
