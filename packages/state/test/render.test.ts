import { createManifestValidator, vendoredCrdsDir } from '@sprout/kube';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { componentOf, resolveFunctionText } from '@sprout/spec';
import { renderComponent, type RenderOptions } from '../src/index.js';

/** The states block of a Function, read by @sprout/spec as `sprout deploy` reads it, rendered. */
function renderFunctionStates(states: Record<string, { spec: object }>, options: RenderOptions) {
  const fn = resolveFunctionText(
    JSON.stringify({
      apiVersion: 'core.openfunction.io/v1beta2',
      kind: 'Function',
      metadata: { name: 'checkout', namespace: options.namespace },
      spec: { serving: { states } },
    }),
    'function.yaml',
  );
  return fn.components.map((c) => renderComponent(c, options));
}
import { component } from './helpers.js';

const crds = vendoredCrdsDir();
const validator = createManifestValidator(crds);

describe('Kubernetes: state components render as Dapr Component manifests', () => {
  it('renders the states block of a Function, valid against the Dapr CRD', () => {
    const manifests = renderFunctionStates(
      {
        orders: {
          spec: {
            type: 'state.redis',
            metadata: [
              { name: 'redisHost', value: 'redis-master.shop.svc:6379' },
              { name: 'redisPassword', secretKeyRef: { name: 'redis', key: 'password' } },
              { name: 'keyPrefix', value: 'name' },
            ],
          },
        },
        audit: {
          spec: {
            type: 'state.postgresql',
            version: 'v2',
            metadata: [{ name: 'connectionString', secretKeyRef: { name: 'pg', key: 'url' } }],
          },
        },
      },
      { namespace: 'shop', scopes: ['checkout'] },
    );
    expect(manifests).toHaveLength(2);
    for (const m of manifests) {
      const result = validator.validate(m);
      expect(result.issues).toEqual([]);
    }
    expect(manifests[0]).toMatchObject({
      apiVersion: 'dapr.io/v1alpha1',
      kind: 'Component',
      metadata: { name: 'orders', namespace: 'shop' },
      spec: { type: 'state.redis', version: 'v1' },
      scopes: ['checkout'],
    });
    // secrets stay references, never values
    expect(stringify(manifests)).not.toMatch(/password: [^\n]*[^}]$/m);
    expect(manifests[0]!.spec.metadata[1]).toEqual({
      name: 'redisPassword',
      secretKeyRef: { name: 'redis', key: 'password' },
    });
    expect(manifests[1]!.spec.version).toBe('v2');
  });

  it('renders every local engine type valid, numbers as strings', () => {
    for (const [type, md] of [
      ['state.sqlite', { connectionString: 'data.db', cleanupInterval: '1h' }],
      ['state.in-memory', {}],
      ['state.redis', { redisHost: 'r:6379', redisDB: '1' }],
      ['state.postgresql', { connectionString: 'postgres://db/x' }],
    ] as const) {
      const m = renderComponent(component('store', type, md), { namespace: 'default' });
      validator.assertValid(m);
      for (const item of m.spec.metadata) expect(typeof item.value).toBe('string');
    }
  });

  it('a manifest the CRD refuses is caught by the validator (the test can fail)', () => {
    const c = componentOf('s', { type: 'state.redis', metadata: [] }, 'states.s');
    const bad = { ...renderComponent(c!), spec: { type: 'state.redis' } };
    expect(validator.validate(bad).valid).toBe(false);
  });
});
