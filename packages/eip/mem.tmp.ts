import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@sprout/observe';
import { createEipManager } from './src/index.ts';
const m = createEipManager({
  dataDir: mkdtempSync(join(tmpdir(), 'y-')),
  logger: createLogger({ level: 'error' }),
});
m.apply(
  `apiVersion: network.kubesphere.io/v1alpha2\nkind: Eip\nmetadata: {name: p}\nspec: {address: 10.0.0.0/12, namespaces: [a], protocol: local}\n`,
);
const reqs = Array.from({ length: 50000 }, (_, i) => ({
  namespace: 'a',
  name: `s${i}`,
  ports: [{ port: 80, protocol: 'TCP' as const }],
}));
let t0 = performance.now();
for (let i = 0; i < 50000; i += 1000) m.allocateMany(reqs.slice(i, i + 1000));
console.log('allocateMany(1000) x50', Math.round((50000 / (performance.now() - t0)) * 1000), '/s');
const m2 = createEipManager({
  dataDir: mkdtempSync(join(tmpdir(), 'y-')),
  logger: createLogger({ level: 'error' }),
});
m2.apply(
  `apiVersion: network.kubesphere.io/v1alpha2\nkind: Eip\nmetadata: {name: p}\nspec: {address: 10.0.0.0/12, namespaces: [a], protocol: local}\n`,
);
t0 = performance.now();
for (let i = 0; i < 100; i++) m2.allocate(reqs[i]!);
console.log('allocate x10000', Math.round((10000 / (performance.now() - t0)) * 1000), '/s');
