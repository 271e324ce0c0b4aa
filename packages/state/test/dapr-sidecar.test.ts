// The `dapr` engine (a StateStore over a sidecar's HTTP API, used on Kubernetes) runs the same
// conformance suite. No daprd binary can run on these machines, so the sidecar here is Sprout's own
// Dapr state API server over SQLite: the wire protocol is the one the SDK test checks.
import { afterAll } from 'vitest';
import { createLogger } from '@sprout/observe';
import { createStateApiServer, openStateStore, type StateApiServer, type StateStore } from '../src/index.js';
import { describeConformance } from './conformance.js';
import { component, tempDir } from './helpers.js';

const tmp = tempDir('sidecar');
const servers: StateApiServer[] = [];
const backing: StateStore[] = [];
afterAll(() => tmp.remove());

describeConformance('dapr sidecar', {
  open: async ({ appId, maxValueBytes }) => {
    const store = await openStateStore(component('statestore', 'state.sqlite'), {
      appId,
      dataDir: tmp.dir,
      ...(maxValueBytes ? { maxValueBytes } : {}),
    });
    backing.push(store);
    const server = createStateApiServer({
      stores: [store],
      appId,
      logger: createLogger({ level: 'silent' }),
    });
    servers.push(server);
    const { port } = await server.listen(0);
    // spec.type does not matter with a sidecar: the sidecar runs the real component.
    return openStateStore(component('statestore', 'state.redis', { redisHost: 'unused:6379' }), {
      appId,
      dataDir: tmp.dir,
      sidecar: { port },
    });
  },
  cleanup: async () => {
    for (const s of servers) await s.close();
    for (const s of backing) await s.close();
  },
});
