import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isSproutError } from '@sprout/http';
import { GatewayError, GatewayErrorCodes } from './errors.js';

describe('error codes', () => {
  it('are each documented in the README with how to fix them, and the README lists no others', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = new Set<string>();
    for (const line of readme.split('\n')) {
      const cells = line.split('|').map((c) => c.trim());
      // | `CODE` | meaning | how to fix |
      const code = /^`(SPROUT_ERR_GATEWAY_\w+)`$/.exec(cells[1] ?? '')?.[1];
      if (code && cells.length === 5 && cells[2] && cells[3]) documented.add(code);
    }
    expect([...documented].sort()).toEqual(Object.keys(GatewayErrorCodes).sort());
  });

  it('are SproutErrors: code, field and the toolkit body', () => {
    const err = new GatewayError('SPROUT_ERR_GATEWAY_INVALID_OPTION', 'scaleIntervalMs must be > 0', {
      field: 'scaleIntervalMs',
    });
    expect(isSproutError(err, 'SPROUT_ERR_GATEWAY_INVALID_OPTION')).toBe(true);
    expect(err.name).toBe('GatewayError');
    expect(err.toJSON()).toEqual({
      error: {
        code: 'SPROUT_ERR_GATEWAY_INVALID_OPTION',
        message: 'scaleIntervalMs must be > 0',
        field: 'scaleIntervalMs',
      },
    });
  });
});
