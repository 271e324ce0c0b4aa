import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createManifestValidator, vendoredCrdsDir } from '@sprout/kube';
import { loadFunctionYaml } from './load.js';

const fixtures = fileURLToPath(new URL('../test/fixtures/', import.meta.url));

describe('function.yaml files Sprout reads stay valid OpenFunction Functions', () => {
  it('validates against the vendored OpenFunction CRD (the knobs live in annotations)', () => {
    const validator = createManifestValidator(vendoredCrdsDir());
    for (const name of ['greeter', 'never-ready', 'bad-target']) {
      const fn = loadFunctionYaml(join(fixtures, name, 'function.yaml'));
      expect(fn.name).toBe(name);
      const manifest = structuredClone(fn.manifest!);
      manifest.spec.image ??= 'registry.local/x:1'; // required by the CRD, optional locally
      expect(validator.validate(manifest).issues, name).toEqual([]);
    }
  });
});
