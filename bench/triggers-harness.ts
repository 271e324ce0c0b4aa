// What bench/triggers.ts and its children share: the brokers, and an async function as `sprout dev`
// runs one (a real @sprout/framework server with the async runtime as the app, the @sprout/triggers
// delivery engine between it and the broker; the app in this process or, as deployed, in its own).
import { spawn } from 'node:child_process';
import { createLogger } from '@sprout/observe';
import { serve, type RunningServer } from '@sprout/framework';
import { resolveFunctionText, type ResolvedFunction } from '@sprout/spec';
import { FunctionDelivery, openPubSub, triggersFor, type PubSubEngine } from '@sprout/triggers';
import { root } from './lib.js';

export const NATS_URL = process.env.SPROUT_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
export const REDIS_HOST = process.env.SPROUT_TEST_REDIS_HOST ?? '127.0.0.1:6379';
export const AMQP_URL = process.env.SPROUT_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** Dapr component metadata per broker; short redelivery timers so the soak does not wait 30 s. */
export const BROKERS = {
  jetstream: { type: 'pubsub.jetstream', metadata: { natsURL: NATS_URL, ackWait: '2s' } },
  redis: {
    type: 'pubsub.redis',
    metadata: { redisHost: REDIS_HOST, processingTimeout: '2s', redeliverInterval: '1s' },
  },
  rabbitmq: {
    type: 'pubsub.rabbitmq',
    metadata: {
      connectionString: AMQP_URL,
      durable: 'true',
      deletedWhenUnused: 'false',
      deliveryMode: '2',
      publisherConfirm: 'true',
    },
  },
} as const;
export type Broker = keyof typeof BROKERS;

/** Dapr's CloudEvent around `data`, as the publish API puts it on the broker. */
export function cloudEvent(id: string, data: unknown): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      id,
      specversion: '1.0',
      source: 'bench',
      type: 'com.dapr.event.sent',
      datacontenttype: 'application/json',
      data,
    }),
  );
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across the processes of a run. */
export const nowMs = () => performance.timeOrigin + performance.now();

export interface AsyncFunction {
  readonly engine: PubSubEngine;
  readonly delivery: FunctionDelivery;
  readonly server: FunctionApp;
  /** Opens the gate: deliveries were held (in their maxInFlight slots) until now. */
  release(): void;
  delivered(): number;
  close(): Promise<void>;
}

/** The OpenFunction async function on `broker`/`topic` (consumer group `group`), as its function.yaml resolves. */
export function asyncFunction(broker: Broker, topic: string, group: string): ResolvedFunction {
  const { type, metadata } = BROKERS[broker];
  const yaml = JSON.stringify({
    apiVersion: 'core.openfunction.io/v1beta2',
    kind: 'Function',
    metadata: { name: group },
    spec: {
      version: 'v1.0.0',
      serving: {
        pubsub: {
          bus: {
            type,
            version: 'v1',
            metadata: [...Object.entries(metadata), ['consumerID', group]].map(([name, value]) => ({
              name,
              value,
            })),
          },
        },
        triggers: { dapr: [{ name: 'bus', topic }] },
      },
    },
  });
  return resolveFunctionText(yaml, `${group}/function.yaml`);
}

/** The function's app: a @sprout/framework server whose async function is `handler`, on loopback. */
export function serveFunction(
  fn: ResolvedFunction,
  handler: (data: unknown) => void,
): Promise<RunningServer> {
  return serve({
    functions: { fn: async (_ctx: unknown, data: unknown) => handler(data), context: fn.context },
    port: 0,
    host: '127.0.0.1',
    logger: createLogger({ level: 'silent' }),
  });
}

/** Where the delivery engine POSTs: the app's URL and how to stop it. */
export interface FunctionApp {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * An OpenFunction async function on `broker`/`topic` (consumer group `group`): the delivery engine
 * in this process, the app from `app` (by default a framework server in this process whose handler
 * is `handler`). With `held`, deliveries wait for `release()` (the broker keeps the rest).
 */
export async function startAsyncFunction(
  broker: Broker,
  topic: string,
  group: string,
  handler: (data: unknown) => void,
  options: { maxInFlight: number; held?: boolean; app?: (fn: ResolvedFunction) => Promise<FunctionApp> },
): Promise<AsyncFunction> {
  const { type, metadata } = BROKERS[broker];
  const fn = asyncFunction(broker, topic, group);
  const logger = createLogger({ level: 'silent' });
  const server = await (options.app ?? ((f) => serveFunction(f, handler)))(fn);
  const engine = await openPubSub({ name: 'bus', type, metadata: { ...metadata, consumerID: group } });
  let release!: () => void;
  const gate = options.held ? new Promise<void>((r) => (release = r)) : Promise.resolve();
  const delivery = await FunctionDelivery.start(triggersFor(fn, { pubsubs: { bus: engine }, bindings: {} }), {
    target: { url: () => gate.then(() => server.url) },
    maxInFlight: options.maxInFlight,
    retry: { duration: '100ms', maxRetries: -1 },
    log: logger,
  });
  return {
    engine,
    delivery,
    server,
    release: () => release?.(),
    delivered: () => delivery.counts().bus?.delivered ?? 0,
    close: async () => {
      await delivery.close();
      await engine.close();
      await server.close();
    },
  };
}

/** The function's own process (bench/triggers-function.ts); `stats()` is its CPU µs, peak RSS and latency samples. */
export interface ChildApp extends FunctionApp {
  stats(): Promise<{ cpuUs: number; samples: number[]; maxRssMiB: number }>;
}

/**
 * The function in a process of its own, as `sprout dev` runs it (Node started with `nodeArgs` too: a
 * profiler's, V8 flags to compare); latency samples from the `warmN`-th message.
 */
export function startChildApp(
  broker: Broker,
  topic: string,
  group: string,
  options: { warmN: number; nodeArgs?: readonly string[] },
): Promise<ChildApp> {
  const args = [
    ...(options.nodeArgs ?? []),
    '--conditions=@sprout/source',
    '--import',
    'tsx',
    `${root}bench/triggers-function.ts`,
  ];
  const child = spawn(process.execPath, [...args, broker, topic, group, String(options.warmN)], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>() => new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T)));
  const exited = new Promise((r) => child.once('exit', r));
  return Promise.race([
    next<{ url: string }>(),
    exited.then(() => Promise.reject(new Error('the function process exited before it listened'))),
  ]).then(({ url }) => ({
    url,
    stats() {
      const reply = next<{ cpuUs: number; samples: number[]; maxRssMiB: number }>();
      child.send('stats');
      return reply;
    },
    async close() {
      child.disconnect();
      await exited;
    },
  }));
}
