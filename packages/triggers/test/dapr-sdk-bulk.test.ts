// The official @dapr/dapr SDK's bulk subscriber (DaprServer pubsub.subscribeBulk, HTTP) fed by
// Sprout's delivery engine: the SDK advertises bulkSubscribe in GET /dapr/subscribe, the engine
// POSTs daprd's bulk envelope, the SDK calls the handler per entry and answers statuses. The SDK
// answers a single (non-bulk) POST on a bulk route with no statuses, which the engine would read as
// success without the handler ever running: every message reaching the handler is the proof.
import { CommunicationProtocolEnum, DaprPubSubStatusEnum, DaprServer, LogLevel } from '@dapr/dapr';
import { freePort } from '@sprout/http/testing';
import { createLogger } from '@sprout/observe';
import { afterEach, describe, expect, it } from 'vitest';
import { createDaprApiServer, FunctionDelivery, openPubSub, type PubSubEngine } from '../src/index.js';
import { until } from './delivery-app.js';

const quiet = {
  level: LogLevel.Error,
  service: { error() {}, warn() {}, info() {}, verbose() {}, debug() {} },
};
const suffix = `${process.pid}-${Date.now()}`;
const enc = (s: string) => new TextEncoder().encode(s);

const cases = [
  { label: 'pubsub.in-memory', type: 'pubsub.in-memory', metadata: {} },
  {
    label: 'pubsub.redis (real Redis)',
    type: 'pubsub.redis',
    metadata: { redisHost: process.env.SPROUT_TEST_REDIS ?? '127.0.0.1:6379' },
  },
];

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

describe.each(cases)('the Dapr SDK bulk subscriber on $label', ({ type, metadata }) => {
  it('gets every message through bulk requests; a RETRY is retried alone', async () => {
    const topic = `sdk-bulk-${type.split('.')[1]}-${suffix}`;
    const engine: PubSubEngine = await openPubSub({ name: 'bus', type, metadata });
    open.push(engine);
    const seen = new Map<number, number>();
    // DaprServer.start() waits for its sidecar: Sprout's Dapr API plays it.
    const api = createDaprApiServer({
      pubsubs: { bus: engine },
      bindings: {},
      appId: 'sdk-bulk',
      logger: createLogger({ level: 'silent' }),
    });
    const { port: daprPort } = await api.listen(0);
    open.push(api);
    const port = await freePort();
    const app = new DaprServer({
      serverHost: '127.0.0.1',
      serverPort: String(port),
      clientOptions: {
        daprHost: '127.0.0.1',
        daprPort: String(daprPort),
        communicationProtocol: CommunicationProtocolEnum.HTTP,
        logger: quiet,
      },
      logger: quiet,
    });
    await app.pubsub.subscribeBulk(
      'bus',
      topic,
      async (data: { n: number }) => {
        seen.set(data.n, (seen.get(data.n) ?? 0) + 1);
        return data.n === 4 && seen.get(4) === 1 ? DaprPubSubStatusEnum.RETRY : DaprPubSubStatusEnum.SUCCESS;
      },
      { maxMessagesCount: 5 },
    );
    await app.start();
    open.push({ close: () => app.stop() });
    const subs = (await (await fetch(`http://127.0.0.1:${port}/dapr/subscribe`)).json()) as unknown[];
    expect(subs).toContainEqual(
      expect.objectContaining({
        pubsubname: 'bus',
        topic,
        bulkSubscribe: expect.objectContaining({ enabled: true }),
      }),
    );
    const delivery = await FunctionDelivery.start(
      [{ kind: 'pubsub', name: 'orders', pubsubname: 'bus', engine, topic, group: `sdk-bulk-${suffix}` }],
      {
        target: { url: async () => `http://127.0.0.1:${port}` },
        maxInFlight: 16,
        retry: { duration: '20ms', maxRetries: 3 },
        log: createLogger({ level: 'silent' }),
      },
    );
    open.push(delivery);
    for (let n = 0; n < 12; n++)
      await engine.publish(
        topic,
        enc(JSON.stringify({ id: `m-${n}`, specversion: '1.0', source: 'sdk-test', type: 't', data: { n } })),
      );
    await until(() => delivery.counts().orders!.delivered === 12, 'twelve delivered');
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(seen.get(4)).toBe(2);
    expect(delivery.counts().orders).toMatchObject({ delivered: 12, retried: 1, deadLettered: 0 });
  });
});
