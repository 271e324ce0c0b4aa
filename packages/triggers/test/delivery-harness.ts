// The preamble every in-process delivery test file shares: one DeliveryApp for the file, what a test
// opens closed after it (last opened first), the app reset between tests, and TriggerDelivery
// started with the tests' defaults (the app as target, 10 in flight, 2 quick retries).
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createLogger } from '@sprout/observe';
import { envelopeOf } from '../src/api/envelope.js';
import {
  TriggerDelivery,
  type DeliveryOptions,
  type PubSubEngine,
  type PubSubTrigger,
} from '../src/index.js';
import { InMemoryPubSub } from '../src/engines/in-memory.js';
import { DeliveryApp, type Answer } from './delivery-app.js';

export const log = createLogger({ level: 'silent' });
export const enc = (s: string) => new TextEncoder().encode(s);

interface Closable {
  close(): Promise<void>;
}

export interface DeliveryHarness {
  /** The file's app, listening from beforeAll on. */
  readonly app: DeliveryApp;
  /** A name no other test of the run uses. */
  unique(what: string): string;
  /** Closes `c` after the test (last opened first); returns it. */
  track<T extends Closable>(c: T): T;
  /** A fresh in-memory pub/sub named `bus`, closed after the test. */
  memoryBus(): InMemoryPubSub;
  /** A pub/sub trigger named after its topic, on pub/sub `bus`, group `fn`, to the app; closed after the test. */
  start(
    engine: PubSubEngine,
    trigger: Partial<PubSubTrigger> & { topic: string },
    options?: Partial<DeliveryOptions>,
  ): Promise<TriggerDelivery>;
}

/**
 * Registers the file's hooks and returns the harness. `answer` is what the app answers after each
 * reset (default: `{"status":"SUCCESS"}`).
 */
export function useDeliveryHarness(prefix: string, o: { answer?: Answer } = {}): DeliveryHarness {
  const app = new DeliveryApp();
  const answer = o.answer ?? app.answer;
  const opened: Closable[] = [];
  let n = 0;
  beforeAll(() => app.listen());
  afterAll(() => app.close());
  afterEach(async () => {
    for (const c of opened.splice(0).reverse()) await c.close();
    app.received.length = 0;
    app.subscriptions = [];
    app.answer = answer;
  });
  const track = <T extends Closable>(c: T): T => {
    opened.push(c);
    return c;
  };
  return {
    app,
    unique: (what) => `${prefix}-${what}-${process.pid}-${Date.now()}-${++n}`,
    track,
    memoryBus: () => track(new InMemoryPubSub('bus')),
    start: async (engine, trigger, options = {}) =>
      track(
        await TriggerDelivery.start(
          { kind: 'pubsub', name: trigger.topic, pubsubname: 'bus', engine, group: 'fn', ...trigger },
          {
            target: app.target(),
            maxInFlight: 10,
            retry: { policy: 'constant', duration: '10ms', maxRetries: 2 },
            log,
            ...options,
          },
        ),
      ),
  };
}

/** Publishes what daprd puts on the broker for a JSON body sent to the publish API; returns the CloudEvent. */
export async function publishDapr(
  engine: PubSubEngine,
  topic: string,
  data: unknown,
  appId = 'publisher',
): Promise<Record<string, unknown>> {
  const ce = envelopeOf(enc(JSON.stringify(data)), 'application/json', {
    appId,
    pubsub: 'bus',
    topic,
    metadata: {},
  });
  await engine.publish(topic, enc(JSON.stringify(ce)));
  return ce;
}
