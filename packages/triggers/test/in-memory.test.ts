import { describe, expect, it } from 'vitest';
import { isTriggersError, localComponentTypes, openPubSub } from '../src/index.js';
import { describePubSubConformance } from './conformance.js';

// One engine per test file: the in-memory broker is the process, so every "connection" shares it.
let shared: Awaited<ReturnType<typeof openPubSub>> | undefined;
describePubSubConformance('in-memory', {
  open: async () => {
    shared ??= await openPubSub({ name: 'mem', type: 'pubsub.in-memory', metadata: {} });
    // Each open() hands out a view whose close() leaves the shared broker running.
    const engine = shared;
    return {
      type: engine.type,
      publish: (t, d, m) => engine.publish(t, d, m),
      subscribe: (o) => engine.subscribe(o),
      close: async () => {},
    };
  },
  countsAttempts: true,
  redeliversOnNack: true,
  redeliversAfterClose: true,
});

describe('openPubSub', () => {
  it('refuses a type with no local engine, naming the types that run locally', async () => {
    const err = await openPubSub({ name: 'k', type: 'pubsub.kafka', metadata: {} }).catch((e: unknown) => e);
    expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_COMPONENT_UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toContain('pubsub.kafka');
    expect((err as Error).message).toContain('pubsub.in-memory');
  });

  it('refuses Dapr topic scoping (not enforced locally) and keys the in-memory broker does not take', async () => {
    for (const key of ['allowedTopics', 'publishingScopes', 'redisHost']) {
      const err = await openPubSub({ name: 'm', type: 'pubsub.in-memory', metadata: { [key]: 'x' } }).catch(
        (e: unknown) => e,
      );
      expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED'), key).toBe(true);
      expect((err as { field: string }).field).toBe(`metadata.${key}`);
    }
  });

  it('lists the local types and drops a /v1 version suffix', async () => {
    expect(localComponentTypes()).toContain('pubsub.in-memory');
    const e = await openPubSub({ name: 'v', type: 'pubsub.in-memory/v1', metadata: {} });
    expect(e.type).toBe('pubsub.in-memory');
    await e.close();
    const err = await e.publish('t', new Uint8Array()).catch((x: unknown) => x);
    expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_CLOSED')).toBe(true);
  });
});
