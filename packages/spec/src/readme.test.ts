import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadFunctionDir, loadFunctions, loadResources, resolveComponent } from './index.js';

// The README's "Use it" example, run from the repository root, with the output it shows.
const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('the README example', () => {
  it('loads examples/hello and the components of examples/state-orders', () => {
    const { functions, errors } = loadFunctions(['examples/hello'], root);
    expect(functions.map((f) => [f.name, f.version, f.routes, f.scaling.maxReplicas])).toEqual([
      ['hello', 'v1.0.0', [], 10],
    ]);
    expect(errors).toEqual([]);
    expect(functions[0]!.dir).toBe(resolve(root, 'examples/hello'));

    const hello = loadFunctionDir(join(root, 'examples/hello'));
    expect(hello.context).toEqual({ name: 'hello', version: 'v1.0.0', runtime: 'knative', port: '8080' });

    const { components } = loadResources(join(root, 'examples/state-orders/components'), { appId: 'orders' });
    expect(components.map((c) => `${c.metadata.name} ${c.spec.type} (${c.source})`)).toEqual([
      'audit state.in-memory (audit.yaml)',
      'orders state.sqlite (orders.yaml)',
    ]);
    expect(resolveComponent(components[0]!).spec.metadata).toEqual([]);
  });
});
