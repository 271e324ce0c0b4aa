// kill -9, counted: an instance killed while it handles a message, and the delivering process
// itself killed while a message is in flight. In both the message is delivered afterwards, once
// acked, nothing lost (real Redis Streams, real processes, SIGKILL).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@sprout/observe';
import { envelopeOf } from '../src/api/envelope.js';
import { FunctionDelivery, openPubSub, type PubSubEngine } from '../src/index.js';
import { DeliveryApp, until } from './delivery-app.js';

const log = createLogger({ level: 'silent' });
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const run = `${process.pid}-${Date.now().toString(36)}`;
const topics: string[] = [];
const children: ChildProcess[] = [];
let bus: PubSubEngine;
let app: DeliveryApp;

/** Starts a child and resolves with it once a stdout line matches `ready`. */
async function child(
  argv: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ p: ChildProcess; line: string }> {
  const p = spawn(process.execPath, argv, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(p);
  let out = '';
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line) resolve({ p, line });
    });
    p.once('exit', (code) => reject(new Error(`child exited (${code}) before it was ready: ${err}`)));
  });
}

async function kill9(p: ChildProcess): Promise<void> {
  const exited = once(p, 'exit');
  p.kill('SIGKILL');
  await exited;
}

const publish = async (topic: string, data: unknown) => {
  const body = new TextEncoder().encode(JSON.stringify(data));
  const ce = envelopeOf(body, 'application/json', { appId: 'pub', pubsub: 'bus', topic, metadata: {} });
  await bus.publish(topic, new TextEncoder().encode(JSON.stringify(ce)));
  return ce.id as string;
};

beforeAll(async () => {
  app = await DeliveryApp.start();
  bus = await openPubSub({
    name: 'kill-test',
    type: 'pubsub.redis',
    metadata: { redisHost: '127.0.0.1:6379', processingTimeout: '1s', redeliverInterval: '300ms' },
  });
});

afterAll(async () => {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await bus?.close();
  await app?.close();
  const r = new Redis({ host: '127.0.0.1', port: 6379 });
  if (topics.length) await r.del(...topics);
  await r.quit();
});

describe('kill -9', () => {
  it('the instance killed while handling: the message is retried on the next instance and delivered once acked', async () => {
    const topic = `sprout-kill-instance-${run}`;
    topics.push(topic);
    const first = await child([fixture('app-child.mjs')], {}, /^listening \d+$/);
    const firstUrl = `http://127.0.0.1:${first.line.split(' ')[1]}`;
    let current = firstUrl;
    const delivery = await FunctionDelivery.start(
      [{ kind: 'pubsub', name: 'in', pubsubname: 'bus', engine: bus, topic, group: 'fn', route: '/in' }],
      {
        target: { url: async () => current },
        maxInFlight: 2,
        retry: { duration: '50ms', maxRetries: 20 },
        log,
      },
    );
    try {
      const requested = new Promise<void>((resolve) =>
        first.p.stdout!.on('data', (d: Buffer) => d.toString().includes('request /in') && resolve()),
      );
      const id = await publish(topic, { order: 1 });
      await requested;
      current = app.url; // the platform's next ready instance
      await kill9(first.p);
      await until(() => delivery.counts().in!.delivered === 1, 'the delivery to the next instance');
      expect(app.received.map((r) => r.json.id)).toEqual([id]);
      expect(delivery.counts().in).toMatchObject({ delivered: 1, deadLettered: 0, dropped: 0, inFlight: 0 });
      expect(delivery.counts().in!.failed).toBeGreaterThanOrEqual(1);
      expect(await delivery.lag()).toEqual({ in: 0 });
    } finally {
      await delivery.close();
      app.received.length = 0;
    }
  });

  it('the delivering process killed with a message in flight: after restart the broker hands it over again', async () => {
    const topic = `sprout-kill-delivery-${run}`;
    topics.push(topic);
    const release = app.hold();
    const deliverer = await child(
      ['--conditions=@sprout/source', '--import', 'tsx', fixture('deliver-child.mts')],
      { TOPIC: topic, APP_URL: app.url },
      /^delivering$/,
    );
    const ids = [await publish(topic, { n: 1 }), await publish(topic, { n: 2 })];
    await until(() => app.active === 2, 'both messages at the app');
    await kill9(deliverer.p);
    release();
    app.answer = (_r, res) => res.writeHead(200).end();
    const restarted = await FunctionDelivery.start(
      [{ kind: 'pubsub', name: 'in', pubsubname: 'bus', engine: bus, topic, group: 'fn', route: '/in' }],
      { target: app.target(), maxInFlight: 4, log },
    );
    try {
      await until(() => restarted.counts().in!.delivered === 2, 'both redelivered after the restart');
      const seen = app.received.map((r) => r.json.id as string);
      // Each at least once: twice seen (before the kill and after), none lost, none extra.
      expect([...new Set(seen)].sort()).toEqual([...ids].sort());
      expect(seen).toHaveLength(4);
      expect(await restarted.lag()).toEqual({ in: 0 });
    } finally {
      await restarted.close();
      app.received.length = 0;
    }
  });
});
