import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { isSproutError } from '@sprout/http';
import { EIP_ERROR_CODES, EipError, isEipError } from './errors.js';

it('documents every error code in the README, and no other', () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const documented = new Set(readme.match(/SPROUT_ERR_EIP_[A-Z0-9_]+/g));
  expect([...documented].sort()).toEqual([...EIP_ERROR_CODES].sort());
  for (const code of EIP_ERROR_CODES)
    expect(readme).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|.+\\|.+\\|`));
});

it('is a SproutError with the field at fault and the status of its code', () => {
  const bad = new EipError('SPROUT_ERR_EIP_BAD_REQUEST', 'at most one address per family', 'ips');
  expect(isSproutError(bad, 'SPROUT_ERR_EIP_BAD_REQUEST')).toBe(true);
  expect([bad.name, bad.field, bad.status, bad.message]).toEqual([
    'EipError',
    'ips',
    400,
    'ips: at most one address per family',
  ]);
  expect(bad.toJSON()).toEqual({
    error: {
      code: 'SPROUT_ERR_EIP_BAD_REQUEST',
      message: 'ips: at most one address per family',
      field: 'ips',
    },
  });
  const cause = new Error('disk full');
  const store = new EipError('SPROUT_ERR_EIP_STORE', 'cannot write', undefined, { cause });
  expect([store.status, store.field, store.cause]).toEqual([500, undefined, cause]);
  expect(new EipError('SPROUT_ERR_EIP_POOL_IN_USE', 'in use').status).toBe(409);
  expect(new EipError('SPROUT_ERR_EIP_NOT_ALLOCATED', 'gone').status).toBe(404);
  expect(isEipError(store, 'SPROUT_ERR_EIP_STORE')).toBe(true);
  expect(isEipError(new Error('plain'))).toBe(false);
});
