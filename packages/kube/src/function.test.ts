import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderFunction, type FunctionManifestInput } from './function.js';
import { dnsLabel } from './names.js';
import { vendoredCrdsDir } from './crds.js';
import { createManifestValidator } from './validate.js';

const crds = vendoredCrdsDir();
const validator = createManifestValidator(crds);

describe('renderFunction', () => {
  it('renders a valid Function for a bare folder', () => {
    const fn = renderFunction({
      name: '@acme/Hello_World',
      version: '1.2.0',
      image: 'registry.local/hello:1.2.0',
      target: 'hello',
      signatureType: 'http',
    });
    expect(fn.metadata.name).toBe('hello-world');
    expect(fn.spec.version).toBe('v1.2.0');
    expect(fn.spec.serving).toMatchObject({
      triggers: { http: { port: 8080 } },
      params: { FUNCTION_TARGET: 'hello', FUNCTION_SIGNATURE_TYPE: 'http' },
    });
    expect(validator.validate(fn).issues).toEqual([]);
  });

  it('keeps a function.yaml (the upstream samples) and stays valid', () => {
    for (const sample of [
      'function-kedahttp-sample-serving.yaml',
      'samples-repo_knative-with-output-binding-node.yaml',
      'samples-repo_async-mqtt-io-node-bindings.yaml',
    ]) {
      const text = readFileSync(`${crds}/openfunction/samples/${sample}`, 'utf8');
      const manifest = parse(text) as FunctionManifestInput;
      const fn = renderFunction({ name: 'ignored', image: '', namespace: 'team-a', base: manifest });
      expect(fn.metadata).toMatchObject({ name: manifest.metadata.name, namespace: 'team-a' });
      expect(fn.spec.image).toBe(manifest.spec.image);
      expect(validator.validate(fn).issues, sample).toEqual([]);
    }
  });

  it('makes DNS labels', () => {
    expect(dnsLabel('--A..b--')).toBe('a-b');
    expect(dnsLabel('x'.repeat(80))).toHaveLength(63);
    expect(dnsLabel('!!!')).toBe('function');
  });
});
