import { readFileSync } from 'node:fs';
import { isSproutError } from '@sprout/http';
import { describe, expect, it } from 'vitest';
import { KUBE_ERROR_CODES, KubeError } from './errors.js';
import { createManifestValidator } from './validate.js';

describe('KubeError', () => {
  it('is a SproutError with its code, status, field and JSON body', () => {
    const err = new KubeError('SPROUT_ERR_KUBE_INVALID_MANIFEST', 'bad', { field: '/spec/image' });
    expect(err).toBeInstanceOf(Error);
    expect(isSproutError(err, 'SPROUT_ERR_KUBE_INVALID_MANIFEST')).toBe(true);
    expect(err).toMatchObject({ name: 'KubeError', status: 400, field: '/spec/image', message: 'bad' });
    expect(err.toJSON()).toEqual({
      error: { code: 'SPROUT_ERR_KUBE_INVALID_MANIFEST', message: 'bad', field: '/spec/image' },
    });
  });

  it('is what assertValid throws', () => {
    const validator = createManifestValidator();
    let thrown: unknown;
    try {
      validator.assertValid({
        apiVersion: 'dapr.io/v1alpha1',
        kind: 'Component',
        metadata: { name: 'Bad_Name' },
      });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(KubeError);
    expect((thrown as KubeError).code).toBe('SPROUT_ERR_KUBE_INVALID_MANIFEST');
  });

  it('has every code listed in the README, and the README lists no other', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    // Rows of the error table (retired codes are named in prose below it, not in the table).
    const documented = [
      ...new Set([...readme.matchAll(/^\| `(SPROUT_ERR_KUBE_[A-Z_]+)`/gm)].map((m) => m[1])),
    ].sort();
    expect(documented).toEqual(Object.keys(KUBE_ERROR_CODES).sort());
  });
});
