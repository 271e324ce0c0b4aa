// The async runtime chosen by FUNC_CONTEXT alone (no --signature-type), as OpenFunction does it:
// upstream's own async functions and OpenFunction/samples' mqtt-io-node (test/fixtures/openfunction,
// unchanged) answer a Dapr sidecar's app callbacks; outputs go to the real Mosquitto on 1883.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fixture, json, start } from './helpers.js';

const target = fixture('openfunction/async-bindings-target');
const targetContext = JSON.parse(readFileSync(join(target, 'context.json'), 'utf8'));
const topic = `sprout/of-async-${process.pid}-${Date.now().toString(36)}`;

afterEach(() => vi.restoreAllMocks());

describe('runtime: async from FUNC_CONTEXT', () => {
  it("serves upstream's async bindings target: OPTIONS probe, then the binding event by component name and by input name", async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const s = await start({
      source: join(target, 'function.js'),
      target: 'writeAsyncBindingsTarget',
      context: targetContext,
    });
    try {
      expect(s.functions[0]!.signatureType).toBe('openfunction');
      const route = `/${targetContext.inputs.kafka.componentName}`;
      expect((await fetch(s.url + route, { method: 'OPTIONS' })).status).toBe(200);
      // what upstream's sender function sends to the kafka binding
      const msg = { Hello: 'Openfunction-Nodejs-Async-Openfunction-Bindings' };
      for (const path of [route, '/kafka']) {
        const r = await fetch(s.url + path, { method: 'POST', headers: json, body: JSON.stringify(msg) });
        expect(r.status).toBe(200);
        await r.text();
      }
      expect(log.mock.calls.filter((c) => JSON.stringify(c[0]) === JSON.stringify(msg))).toHaveLength(2);
      const unknown = await fetch(s.url + '/nope', { method: 'POST', headers: json, body: '{}' });
      expect(unknown.status).toBe(404);
      expect((await unknown.json()).error.code).toBe('SPROUT_ERR_FRAMEWORK_UNKNOWN_INPUT');
    } finally {
      await s.close();
    }
  });

  it("runs the samples' mqtt-io-node tryAsync: a cron delivery (empty body) and an MQTT binding event are answered, and ctx.send publishes", async () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const sub = await connectAsync('mqtt://127.0.0.1:1883');
    const received: string[] = [];
    sub.on('message', (_t, p) => received.push(p.toString()));
    await sub.subscribeAsync(topic, { qos: 1 });
    // The context OpenFunction derives from the sample's Function (triggers.dapr → async), with a
    // cron input added as upstream's AsyncBase context has; the broker is the local Mosquitto.
    const context = {
      name: 'sample-node-async-bindings',
      version: 'v2.0.0',
      runtime: 'Async',
      inputs: {
        'mqtt-in': { componentName: 'mqtt-in', componentType: 'bindings.mqtt' },
        cron: { uri: 'cron_input', componentName: 'binding-cron', componentType: 'bindings.cron' },
      },
      outputs: {
        'mqtt-out': { componentName: 'mqtt-out', componentType: 'bindings.mqtt', operation: 'create' },
      },
    };
    const s = await start({
      source: fixture('openfunction/mqtt-io-node'),
      target: 'tryAsync',
      context,
      components: [
        {
          name: 'mqtt-out',
          type: 'bindings.mqtt',
          metadata: { consumerID: '{uuid}', url: 'tcp://127.0.0.1:1883', topic },
        },
      ],
    });
    try {
      const cron = await fetch(`${s.url}/binding-cron`, {
        method: 'POST',
        signal: AbortSignal.timeout(20_000),
      });
      expect(cron.status).toBe(200);
      await cron.text();
      const r = await fetch(`${s.url}/mqtt-in`, { method: 'POST', headers: json, body: '{"n":1}' });
      expect(r.status).toBe(200);
      await r.text();
      for (let i = 0; i < 200 && received.length < 2; i++) await new Promise((res) => setTimeout(res, 50));
      expect(received.sort()).toEqual(['{"n":1}', '{}']);
    } finally {
      await s.close();
      await sub.endAsync();
    }
  });

  it('lists pub/sub inputs at /dapr/subscribe and unwraps a CloudEvent delivered to the route', async () => {
    const seen: unknown[] = [];
    const s = await start({
      fn: (_ctx: unknown, data: unknown) => void seen.push(data),
      target: 'sub',
      context: {
        name: 'test-context',
        version: '1.0.0',
        runtime: 'Async',
        port: '8080',
        inputs: { mqtt_sub: { uri: 'webup', componentName: 'pubsub-mqtt', componentType: 'pubsub.mqtt' } },
      },
    });
    try {
      expect(await (await fetch(`${s.url}/dapr/subscribe`)).json()).toEqual([
        {
          pubsubname: 'pubsub-mqtt',
          topic: 'webup',
          route: '/mqtt_sub',
          bulkSubscribe: { enabled: true, maxMessagesCount: 100, maxAwaitDurationMs: 10 },
        },
      ]);
      const ce = {
        specversion: '1.0',
        id: '1',
        type: 'ce.openfunction',
        source: 'test',
        datacontenttype: 'application/json',
        data: { some: 'payload' },
      };
      const r = await fetch(`${s.url}/mqtt_sub`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(ce),
      });
      expect(await r.json()).toEqual({ status: 'SUCCESS' });
      expect(seen).toEqual([{ some: 'payload' }]);
    } finally {
      await s.close();
    }
  });

  it('serves http and async functions in one process: /dapr/subscribe lists every subscription under its function, root binding deliveries reach their function', async () => {
    const seen: unknown[] = [];
    const asyncContext = (name: string, topic: string) => ({
      name,
      version: 'v1',
      runtime: 'Async',
      inputs: {
        sub: { uri: topic, componentName: `${name}-ps`, componentType: 'pubsub.mqtt' },
        cron: { componentName: `${name}-cron`, componentType: 'bindings.cron' },
      },
    });
    const s = await start([
      {
        fn: (req: { query: { n?: string } }) => `hi ${req.query.n}`,
        target: 'h',
        signatureType: 'http',
        path: '/h',
      },
      {
        fn: (_ctx: unknown, d: unknown) => void seen.push(['a', d]),
        target: 'a',
        path: '/a',
        context: asyncContext('a', 'ta'),
      },
      {
        fn: (_ctx: unknown, d: unknown) => void seen.push(['b', d]),
        target: 'b',
        path: '/b',
        context: asyncContext('b', 'tb'),
      },
    ]);
    try {
      expect(await (await fetch(`${s.url}/h?n=1`)).text()).toBe('hi 1');
      const subs = [
        {
          pubsubname: 'a-ps',
          topic: 'ta',
          route: '/a/sub',
          bulkSubscribe: { enabled: true, maxMessagesCount: 100, maxAwaitDurationMs: 10 },
        },
        {
          pubsubname: 'b-ps',
          topic: 'tb',
          route: '/b/sub',
          bulkSubscribe: { enabled: true, maxMessagesCount: 100, maxAwaitDurationMs: 10 },
        },
      ];
      expect(await (await fetch(`${s.url}/dapr/subscribe`)).json()).toEqual(subs);
      expect(await (await fetch(`${s.url}/a/dapr/subscribe`)).json()).toEqual([subs[0]]);
      for (const { route } of subs) {
        const r = await fetch(s.url + route, { method: 'POST', headers: json, body: '{"x":1}' });
        expect(await r.json()).toEqual({ status: 'SUCCESS' });
      }
      // daprd delivers an input binding at the app's root, by component name: each reaches its function
      for (const name of ['a', 'b']) {
        expect((await fetch(`${s.url}/${name}-cron`, { method: 'OPTIONS' })).status).toBe(200);
        const r = await fetch(`${s.url}/${name}-cron`, {
          method: 'POST',
          headers: json,
          body: `{"tick":"${name}"}`,
        });
        expect(r.status).toBe(200);
        await r.arrayBuffer();
      }
      expect(seen).toEqual([
        ['a', { x: 1 }],
        ['b', { x: 1 }],
        ['a', { tick: 'a' }],
        ['b', { tick: 'b' }],
      ]);
      expect((await fetch(`${s.url}/c-cron`, { method: 'POST', headers: json, body: '{}' })).status).toBe(
        404,
      );
    } finally {
      await s.close();
    }
  });
});
