// The `dapr` engine (a StateStore over a sidecar's HTTP API, used on Kubernetes) runs the same
// conformance suite. No daprd binary can run on these machines, so the sidecar here is Sprout's own
// Dapr state API server over SQLite: the wire protocol is the one the SDK test checks.
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@sprout/observe';
import {
  MemoryStateStore,
  createStateApiServer,
  openStateStore,
  type StateApiServer,
  type StateStore,
} from '../src/index.js';
import { describeConformance, expectCode } from './conformance.js';
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
      sidecar: {}, // port and token from the environment, as on Kubernetes
      env: { DAPR_HTTP_PORT: String(port), DAPR_API_TOKEN: `token-${appId}` },
    });
  },
  cleanup: async () => {
    for (const s of servers) await s.close();
    for (const s of backing) await s.close();
  },
});

describe('API token', () => {
  it('refuses requests without the right dapr-api-token, with a coded 401', async () => {
    const store = new MemoryStateStore('statestore');
    const server = createStateApiServer({
      stores: [store],
      apiToken: 's3cret',
      logger: createLogger({ level: 'silent' }),
    });
    const { url, port } = await server.listen(0);
    const none = await fetch(`${url}/v1.0/state/statestore/k`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { details: { reason: string }[] }).details[0]!.reason).toBe(
      'SPROUT_ERR_STATE_UNAUTHORIZED',
    );
    expect((await fetch(`${url}/v1.0/healthz`)).status).toBe(204);
    const wrong = await openStateStore(component('statestore', 'state.in-memory'), {
      appId: 'a',
      dataDir: '.',
      sidecar: { port, apiToken: 'nope' },
    });
    await expectCode(wrong.get('k'), 'SPROUT_ERR_STATE_UNAUTHORIZED');
    const right = await openStateStore(component('statestore', 'state.in-memory'), {
      appId: 'a',
      dataDir: '.',
      sidecar: { port, apiToken: 's3cret' },
    });
    await right.save({ key: 'k', value: 1 });
    expect((await right.get('k'))?.value).toBe(1);
    await server.close();
  });
});
