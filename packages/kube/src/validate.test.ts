import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { vendoredCrdsDir } from './crds.js';
import { createManifestValidator } from './validate.js';

const crds = vendoredCrdsDir();
const validator = createManifestValidator(crds);

function samples(dir: string): unknown[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(`${dir}/${f}`, 'utf8')).map((d) => d.toJS() as unknown));
}

describe('manifest validator', () => {
  it('knows the storage versions of the upstream kinds', () => {
    for (const k of [
      'core.openfunction.io/v1beta2/Function',
      'dapr.io/v1alpha1/Component',
      'http.keda.sh/v1alpha1/HTTPScaledObject',
      'fluentbit.fluent.io/v1alpha2/ClusterInput',
      'network.kubesphere.io/v1alpha2/Eip',
      'shipwright.io/v1beta1/Build',
    ]) {
      expect(validator.kinds()).toContain(k);
    }
  });

  it('accepts the upstream OpenFunction samples (with the dynamic-value patch applied)', () => {
    const docs = samples(`${crds}/openfunction/samples`).filter(
      (d) =>
        (d as { kind?: string }).kind === 'Function' &&
        (d as { apiVersion?: string }).apiVersion?.endsWith('v1beta2'),
    );
    expect(docs.length).toBeGreaterThan(3);
    for (const d of docs) {
      const name = (d as { metadata: { name: string } }).metadata.name;
      const issues = validator.validate(d).issues;
      // This upstream sample still carries v1beta1's serving.runtime, which v1beta2 dropped: an API
      // server prunes it silently, we name it.
      if (name === 'node-sample') {
        expect(issues).toEqual([
          { path: '/spec/serving', message: 'must NOT have additional properties (runtime)' },
        ]);
      } else expect(issues, name).toEqual([]);
    }
  });

  it('names the field at fault for a wrong type, an unknown field and a wrong enum', () => {
    const fn = {
      apiVersion: 'core.openfunction.io/v1beta2',
      kind: 'Function',
      metadata: { name: 'f' },
      spec: { serving: { triggers: { http: { port: 'eighty' } } }, imagez: 'x' },
    };
    const r = validator.validate(fn);
    expect(r.valid).toBe(false);
    expect(r.issues).toContainEqual({ path: '/spec/serving/triggers/http/port', message: 'must be integer' });
    expect(r.issues.some((i) => i.path === '/spec' && i.message.includes('imagez'))).toBe(true);
    expect(() => validator.assertValid(fn)).toThrow(/SPROUT_ERR_KUBE_INVALID_MANIFEST|not valid/);
  });

  it('refuses an unknown kind and a bad name', () => {
    expect(
      validator.validate({ apiVersion: 'x/v1', kind: 'Nope', metadata: { name: 'a' } }).issues[0]?.path,
    ).toBe('/apiVersion');
    const r = validator.validate({
      apiVersion: 'dapr.io/v1alpha1',
      kind: 'Component',
      metadata: { name: 'Bad_Name' },
      spec: { type: 'state.redis', version: 'v1' },
    });
    expect(r.issues.map((i) => i.path)).toContain('/metadata/name');
  });
});
