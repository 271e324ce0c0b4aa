import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@sprout/observe';
import { loadResources, resolveFunctionText } from '@sprout/spec';
import {
  FunctionDelivery,
  openPubSub,
  ResiliencyPolicies,
  triggersFor,
  type PubSubEngine,
} from '../src/index.js';
import { collect, DeliveryApp } from './delivery-app.js';
import { waitFor } from './conformance.js';

/**
 * Inbound delivery on real Redis Streams under a Dapr Resiliency file: each pub/sub component's
 * `inbound` timeout, retry (with `matching`) and circuit breaker, applied by the delivery engine.
 */
const run = `${process.pid}-${Date.now().toString(36)}`;
const log = createLogger({ level: 'silent' });
const RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: delivery
scopes: [shop]
spec:
  policies:
    timeouts:
      quick: 300ms
    retries:
      fast:
        policy: constant
        duration: 50ms
        maxRetries: 2
      only5xx:
        policy: constant
        duration: 50ms
        maxRetries: 3
        matching:
          httpStatusCodes: "500-599"
      forever:
        policy: constant
        duration: 20ms
        maxRetries: -1
    circuitBreakers:
      cb:
        maxRequests: 1
        timeout: 1s
        trip: consecutiveFailures >= 3
  targets:
    components:
      retrybus:
        inbound:
          timeout: quick
          retry: fast
      matchbus:
        inbound:
          retry: only5xx
      cbbus:
        inbound:
          retry: forever
          circuitBreaker: cb
`;

const component = (name: string) => `      ${name}:
        type: pubsub.redis
        version: v1
        metadata: [{ name: redisHost, value: '127.0.0.1:6379' }]
`;

const FUNCTION = `apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: shop
spec:
  serving:
    pubsub:
${component('retrybus')}${component('matchbus')}${component('cbbus')}    triggers:
      dapr:
        - { name: retrybus, topic: retry-${run} }
        - { name: matchbus, topic: match-${run} }
        - { name: cbbus, topic: cb-${run} }
`;

describe('Resiliency inbound policies on the delivery engine (Redis Streams)', () => {
  let app: DeliveryApp;
  let delivery: FunctionDelivery;
  const engines: Record<string, PubSubEngine> = {};
  const transitions: string[] = [];
  const tries: Record<string, number> = {};

  beforeAll(async () => {
    // The file as `sprout dev --resources-path` reads it.
    const dir = mkdtempSync(join(tmpdir(), 'sprout-resiliency-'));
    writeFileSync(join(dir, 'resiliency.yaml'), RESILIENCY);
    const { resiliencies } = loadResources(dir, { resiliency: true });
    rmSync(dir, { recursive: true });
    const policies = new ResiliencyPolicies(resiliencies!, 'shop', (name, direction, from, to) =>
      transitions.push(`${name} ${from}>${to} after ${tries.cb ?? 0}`),
    );
    for (const name of ['retrybus', 'matchbus', 'cbbus'])
      engines[name] = await openPubSub({
        name,
        type: 'pubsub.redis',
        metadata: { redisHost: '127.0.0.1:6379' },
      });
    app = await DeliveryApp.start();
    app.subscriptions = ['retry', 'match', 'cb'].map((t) => ({
      pubsubname: `${t === 'retry' ? 'retrybus' : t === 'match' ? 'matchbus' : 'cbbus'}`,
      topic: `${t}-${run}`,
      route: `/${t}`,
      deadLetterTopic: `${t}-dead-${run}`,
    }));
    // Each message says how the app answers its attempts: a status per attempt, "hang" = no answer in time.
    app.answer = async (r, res) => {
      const { id, plan } = r.json.data as { id: string; plan: (number | 'hang')[] };
      const n = (tries[id] = (tries[id] ?? 0) + 1);
      const what = plan[Math.min(n, plan.length) - 1]!;
      if (what === 'hang') await new Promise((done) => setTimeout(done, 1500));
      res.writeHead(what === 'hang' ? 200 : what).end();
    };
    const fn = resolveFunctionText(FUNCTION, 'shop/function.yaml');
    const triggers = triggersFor(fn, { pubsubs: engines, bindings: {} }, { resiliency: policies });
    expect(triggers.map((t) => [t.name, t.resiliency?.names])).toEqual([
      ['retrybus', { timeout: 'quick', retry: 'fast' }],
      ['matchbus', { retry: 'only5xx' }],
      ['cbbus', { retry: 'forever', circuitBreaker: 'cb' }],
    ]);
    delivery = await FunctionDelivery.start(triggers, { target: app.target(), maxInFlight: 4, log });
  });

  afterAll(async () => {
    await delivery?.close();
    await app?.close();
    await Promise.all(Object.values(engines).map((e) => e.close()));
    const r = new Redis({ host: '127.0.0.1', port: 6379 });
    const keys = ['retry', 'match', 'cb'].flatMap((t) => [`${t}-${run}`, `${t}-dead-${run}`]);
    await r.del(...keys).finally(() => r.quit());
  });

  const publish = (bus: string, topic: string, data: object) =>
    engines[bus]!.publish(
      `${topic}-${run}`,
      Buffer.from(
        JSON.stringify({ id: `${topic}-${Date.now()}`, specversion: '1.0', source: 't', type: 't', data }),
      ),
    );

  it("retries per the file's retry policy, an attempt cut at its timeout; after the last retry, the dead-letter topic", async () => {
    const dead = await collect(engines.retrybus!, `retry-dead-${run}`);
    await publish('retrybus', 'retry', { id: 'r1', plan: ['hang', 500, 200] });
    await publish('retrybus', 'retry', { id: 'r2', plan: [500] });
    await waitFor(() => delivery.counts().retrybus!.delivered === 1, 'r1 delivered');
    await waitFor(() => dead.got.length === 1, 'r2 dead-lettered');
    expect(tries.r1).toBe(3); // timed out, 500, 200
    expect(tries.r2).toBe(3); // maxRetries 2: three attempts, not Sprout's default four
    expect(dead.got[0]!.metadata['sprout-deadletter-attempts']).toBe('3');
    expect(delivery.counts().retrybus).toMatchObject({
      delivered: 1,
      deadLettered: 1,
      failed: 5,
      retried: 4,
    });
    await dead.sub.close();
  });

  it('retries only the status codes of matching.httpStatusCodes', async () => {
    const dead = await collect(engines.matchbus!, `match-dead-${run}`);
    await publish('matchbus', 'match', { id: 'm1', plan: [503, 502, 200] });
    await publish('matchbus', 'match', { id: 'm2', plan: [429, 200] });
    await waitFor(() => delivery.counts().matchbus!.delivered === 1, 'm1 delivered');
    await waitFor(() => dead.got.length === 1, 'm2 dead-lettered');
    expect(tries.m1).toBe(3);
    expect(tries.m2).toBe(1); // 429 is outside 500-599: not retried
    await dead.sub.close();
  });

  it('the circuit breaker opens after the trip, holds deliveries while open, and half-opens after its timeout', async () => {
    await publish('cbbus', 'cb', { id: 'cb', plan: [500, 500, 500, 200] });
    await waitFor(() => delivery.counts().cbbus!.delivered === 1, 'cb delivered');
    expect(tries.cb).toBe(4);
    // Opened on the third failure; nothing was POSTed while open; one request half-open closed it.
    expect(transitions).toEqual([
      'cbbus closed>open after 3',
      'cbbus open>half-open after 3',
      'cbbus half-open>closed after 4',
    ]);
  });
});
