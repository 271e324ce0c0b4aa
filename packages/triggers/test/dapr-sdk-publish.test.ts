// The official @dapr/dapr SDK against Sprout's Dapr publish and bindings API: client.pubsub.publish,
// client.pubsub.publishBulk and client.binding.send, and a DaprServer subscriber that receives what
// was published through Sprout's delivery engine (which reads the app's GET /dapr/subscribe and
// POSTs each CloudEvent to its route, as daprd does).
import { CommunicationProtocolEnum, DaprClient, DaprServer, LogLevel } from '@dapr/dapr';
import { freePort } from '@sprout/http/testing';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { createLogger } from '@sprout/observe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDaprApiServer,
  FunctionDelivery,
  openPubSub,
  type BindingResponse,
  type DaprApiServer,
  type OutputBindingEngine,
  type PubSubEngine,
} from '../src/index.js';

const quiet = {
  level: LogLevel.Error,
  service: { error() {}, warn() {}, info() {}, verbose() {}, debug() {} },
};
const suffix = `${process.pid}-${Date.now()}`;
const REDIS = process.env.SPROUT_TEST_REDIS ?? '127.0.0.1:6379';

/** An output binding that records what it was sent and answers with it: what the API hands a binding is what is asserted. */
class RecordingBinding implements OutputBindingEngine {
  readonly type = 'bindings.recording';
  readonly operations = ['create', 'get'];
  readonly calls: { operation: string; data: string; metadata: Record<string, string> }[] = [];
  async invoke(
    operation: string,
    data: Uint8Array,
    metadata: Record<string, string> = {},
  ): Promise<BindingResponse> {
    this.calls.push({ operation, data: Buffer.from(data).toString('utf8'), metadata: { ...metadata } });
    if (!this.operations.includes(operation)) throw new Error(`operation ${operation} is not supported`);
    return operation === 'get' ? { data, metadata: { seen: String(this.calls.length) } } : {};
  }
  async close(): Promise<void> {}
}

const cases = [
  { label: 'pubsub.in-memory', type: 'pubsub.in-memory', metadata: {} },
  {
    label: 'pubsub.redis (real Redis)',
    type: 'pubsub.redis',
    metadata: { redisHost: REDIS, consumerID: 'sdk-app' },
  },
  {
    label: 'pubsub.jetstream (real NATS JetStream)',
    type: 'pubsub.jetstream',
    metadata: { natsURL: 'nats://127.0.0.1:4222' },
  },
  {
    label: 'pubsub.rabbitmq (real RabbitMQ)',
    type: 'pubsub.rabbitmq',
    metadata: { connectionString: 'amqp://guest:guest@127.0.0.1:5672', publisherConfirm: 'true' },
  },
];

describe.each(cases)('the Dapr SDK against Sprout on $label', ({ type, metadata }) => {
  const pubsubName = `sdk-${type.split('.')[1]}`;
  const topic = `sprout-sdk-${type.split('.')[1]}-${suffix}`;
  let engine: PubSubEngine;
  let binding: RecordingBinding;
  let api: DaprApiServer;
  let client: DaprClient;
  let app: DaprServer;
  let delivery: FunctionDelivery | undefined;
  const received: { data: unknown; headers: Record<string, string> }[] = [];
  const waiters: (() => void)[] = [];
  const until = async (n: number) => {
    while (received.length < n) await new Promise<void>((r) => waiters.push(r));
  };

  beforeAll(async () => {
    engine = await openPubSub({ name: pubsubName, type, metadata });
    binding = new RecordingBinding();
    api = createDaprApiServer({
      pubsubs: { [pubsubName]: engine },
      bindings: { store: binding },
      appId: 'sdk-publisher',
      logger: createLogger({ level: 'silent' }),
    });
    const { port } = await api.listen(0);
    const clientOptions = {
      daprHost: '127.0.0.1',
      daprPort: String(port),
      communicationProtocol: CommunicationProtocolEnum.HTTP,
      logger: quiet,
    };
    client = new DaprClient(clientOptions);
    const appPort = await freePort();
    app = new DaprServer({
      serverHost: '127.0.0.1',
      serverPort: String(appPort),
      clientOptions,
      logger: quiet,
    });
    await app.pubsub.subscribe(pubsubName, topic, async (data: unknown, headers: Record<string, string>) => {
      received.push({ data, headers });
      for (const w of waiters.splice(0)) w();
    });
    await app.start();
    delivery = await FunctionDelivery.start(
      [{ kind: 'pubsub', name: 'orders', pubsubname: pubsubName, engine, topic, group: 'sdk-app' }],
      {
        target: { url: async () => `http://127.0.0.1:${appPort}` },
        maxInFlight: 4,
        log: createLogger({ level: 'silent' }),
      },
    );
  });

  afterAll(async () => {
    await delivery?.close();
    await app?.stop();
    await client?.stop();
    await api?.close();
    await engine?.close();
    if (type === 'pubsub.redis') {
      const admin = new Redis(`redis://${REDIS}`);
      await admin.del(topic);
      await admin.quit();
    }
    if (type === 'pubsub.jetstream') {
      const nc = await connect({ servers: '127.0.0.1:4222' });
      const stream = topic.replace(/[.*>\s/\\]/g, '_');
      await (await nc.jetstreamManager()).streams.delete(stream).catch(() => false);
      await nc.close();
    }
  });

  it('publish: a JSON object reaches the DaprServer subscriber as the object, in a Dapr CloudEvent', async () => {
    const before = received.length;
    const r = await client.pubsub.publish(pubsubName, topic, { order: 1, item: 'tea' });
    expect(r.error).toBeUndefined();
    await until(before + 1);
    expect(received[before]!.data).toEqual({ order: 1, item: 'tea' });
  });

  it('publish: a string and metadata.cloudevent overrides', async () => {
    const before = received.length;
    await client.pubsub.publish(pubsubName, topic, 'plain words', {
      metadata: { 'cloudevent.id': 'fixed-id-1', 'cloudevent.type': 'shop.order' },
    });
    await until(before + 1);
    expect(received[before]!.data).toBe('plain words');
  });

  it('the delivery engine counts what it handed the subscriber (acked after the app answered)', async () => {
    // The app's answer reaches the engine just after the handler ran: wait for the count to settle.
    for (let i = 0; i < 200 && delivery!.counts().orders!.delivered < received.length; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(delivery!.counts().orders!.delivered).toBe(received.length);
    expect(delivery!.counts().orders!.deadLettered).toBe(0);
  });

  it('publishBulk: every entry arrives and nothing failed', async () => {
    const before = received.length;
    const r = await client.pubsub.publishBulk(pubsubName, topic, [{ n: 1 }, { n: 2 }, 'three']);
    expect(r.failedMessages).toEqual([]);
    await until(before + 3);
    const got = received.slice(before).map((x) => x.data);
    expect(got).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }, 'three']));
  });

  it('publish to a pub/sub that is not loaded: the SDK gets the error', async () => {
    const r = await client.pubsub.publish('no-such-pubsub', topic, { x: 1 });
    expect(String(r.error)).toMatch(/ERR_PUBSUB_NOT_FOUND/);
  });

  it('binding.send: the binding gets data as daprd sends it (JSON bytes), metadata and operation', async () => {
    const before = binding.calls.length;
    await client.binding.send('store', 'create', { id: 7 }, { key: 'k7' });
    expect(binding.calls[before]).toEqual({ operation: 'create', data: '{"id":7}', metadata: { key: 'k7' } });
    const echoed = await client.binding.send('store', 'get', 'quoted');
    expect(echoed).toBe('quoted');
    expect(binding.calls[before + 1]!.data).toBe('"quoted"');
    await expect(client.binding.send('store', 'delete', {})).rejects.toThrow(/ERR_INVOKE_OUTPUT_BINDING/);
    await expect(client.binding.send('missing', 'create', {})).rejects.toThrow(/ERR_INVOKE_OUTPUT_BINDING/);
  });
});
