import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createManifestValidator, vendoredCrdsDir } from '@sprout/kube';
import { runMain } from '../../test/main-io.js';

const crds = vendoredCrdsDir();
const greeter = fileURLToPath(new URL('../../../platform/test/fixtures/greeter', import.meta.url));
const hello = fileURLToPath(new URL('../../../../examples/hello', import.meta.url));
const validator = createManifestValidator(crds);

async function render(
  ...argv: string[]
): Promise<{ code: number; docs: Record<string, unknown>[]; err: string }> {
  const { code, out, err } = await runMain(['deploy', '--render', ...argv]);
  return { code, docs: parseAllDocuments(out).map((d) => d.toJS() as Record<string, unknown>), err };
}

const kinds = (docs: Record<string, unknown>[]) => docs.map((d) => d.kind);

describe('sprout deploy --render with a keda HTTP trigger', () => {
  it('emits the Function and the HTTPScaledObject, both valid against the CRDs', async () => {
    const r = await render(greeter, '--validate-against', crds);
    expect(r.code, r.err).toBe(0);
    expect(kinds(r.docs)).toEqual(['Function', 'HTTPScaledObject']);
    for (const d of r.docs) expect(validator.validate(d).issues).toEqual([]);
    expect(r.docs[1]).toMatchObject({
      spec: { hosts: ['greeter.local'], pathPrefixes: ['/greet'], replicas: { min: 0, max: 3 } },
    });
  });

  it('emits Deployment, Service and HTTPScaledObject with --without-openfunction', async () => {
    const r = await render(greeter, '--without-openfunction', '-n', 'demo', '--validate-against', crds);
    expect(r.code, r.err).toBe(0);
    expect(kinds(r.docs)).toEqual(['Deployment', 'Service', 'HTTPScaledObject']);
    const [deployment, service, hso] = r.docs as {
      metadata: { name: string; namespace: string };
      spec: never;
    }[];
    expect(validator.validate(hso).issues).toEqual([]);
    for (const d of [deployment, service, hso])
      expect(d!.metadata).toMatchObject({ name: 'greeter', namespace: 'demo' });
    expect(hso!.spec).toMatchObject({ scaleTargetRef: { name: 'greeter', service: 'greeter', port: 8080 } });
  });

  it('renders serving.states as Dapr Components, valid against the CRD, when rendering without OpenFunction', async () => {
    const stateful = fileURLToPath(new URL('../../test/fixtures/stateful', import.meta.url));
    const withOf = await render(stateful, '--validate-against', crds);
    expect(kinds(withOf.docs)).toEqual(['Function']); // OpenFunction creates the components itself
    const r = await render(stateful, '--without-openfunction', '-n', 'shop', '--validate-against', crds);
    expect(r.code, r.err).toBe(0);
    expect(kinds(r.docs)).toEqual(['Deployment', 'Service', 'Component']);
    const component = r.docs[2]!;
    expect(validator.validate(component).issues).toEqual([]);
    expect(component).toMatchObject({
      apiVersion: 'dapr.io/v1alpha1',
      metadata: { name: 'orders-db', namespace: 'shop' },
      spec: { type: 'state.redis', metadata: [{ name: 'redisHost', value: 'redis-master:6379' }] },
      scopes: ['stateful'],
    });
  });

  it('emits only the Function for a folder without a keda trigger', async () => {
    const r = await render(hello, '--image', 'registry.local/hello:1');
    expect(r.code, r.err).toBe(0);
    expect(kinds(r.docs)).toEqual(['Function']);
    const w = await render(hello, '--without-openfunction');
    expect(kinds(w.docs)).toEqual(['Deployment', 'Service']);
  });
});
