import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { EIP_ERROR_CODES } from './errors.js';

it('documents every error code in the README, and no other', () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const documented = new Set(readme.match(/SPROUT_ERR_EIP_[A-Z0-9_]+/g));
  expect([...documented].sort()).toEqual([...EIP_ERROR_CODES].sort());
  for (const code of EIP_ERROR_CODES)
    expect(readme).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|.+\\|.+\\|`));
});
