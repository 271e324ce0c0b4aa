import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectAsync } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { OutputError, type FunctionContext } from '@sprout/framework';
import { testServer, createTestContext } from '@sprout/framework/testing';
import { fixture, json, start } from './helpers.js';

const ofContext = (extra: Partial<FunctionContext> = {}): FunctionContext => ({
  name: 'of-test',
  version: 'v1',
  runtime: 'knative',
  ...extra,
});

describe('ctx: one per invocation', () => {
  it('never shares locals between concurrent invocations', async () => {
    const t = await testServer({
      source: fixture('of-esm'),
      target: 'tryKnative',
      signatureType: 'openfunction',
      context: ofContext(),
    });
    try {
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t
            .fetch('/', { method: 'POST', headers: json, body: JSON.stringify({ i, delay: 20 - i }) })
            .then((r) => r.json()),
        ),
      );
      for (const [i, r] of replies.entries())
        expect(r).toMatchObject({ name: 'of-test', runtime: 'knative', data: { i }, seen: 1 });
      expect(new Set(replies.map((r) => r.executionId)).size).toBe(20);
    } finally {
      await t.close();
    }
  });
});

describe('ctx.send', () => {
  const outputs = {
    events: { componentName: 'mqtt-out', componentType: 'pubsub.mqtt3', uri: 'sprout/framework-ctx-test' },
    hook: {
      componentName: 'http-out',
      componentType: 'bindings.http',
      operation: 'create',
      metadata: { path: '/hook' },
    },
  } as const;

  it('delivers to in-memory outputs in tests and names the output when delivery fails', async () => {
    const t = await testServer({
      source: fixture('of-esm'),
      target: 'tryKnative',
      signatureType: 'openfunction',
      context: ofContext({ outputs }),
    });
    try {
      const r = await t.fetch('/', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ send: 'hi', output: 'events' }),
      });
      expect(r.status).toBe(200);
      expect(t.outputs.events!.sent).toEqual([{ data: { echoed: 'hi' }, ref: outputs.events }]);
      expect(t.outputs.hook!.sent).toEqual([]);
      t.outputs.hook!.fail = new Error('connection refused');
      const failed = await t.fetch('/', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ send: 'x' }),
      });
      expect(failed.status).toBe(500);
    } finally {
      await t.close();
    }
    const { ctx, outputs: outs } = await createTestContext({ outputs });
    outs.hook!.fail = new Error('503 from upstream');
    const err = await ctx.send({ a: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutputError);
    expect(err).toMatchObject({ code: 'SPROUT_ERR_FRAMEWORK_OUTPUT_FAILED', output: 'hook' });
    expect(outs.events!.sent).toHaveLength(1); // the other output still got it
    await expect(ctx.send({}, 'nope')).rejects.toMatchObject({
      code: 'SPROUT_ERR_FRAMEWORK_UNKNOWN_OUTPUT',
      output: 'nope',
    });
  });

  it('publishes to a real MQTT broker and posts to a real HTTP endpoint natively', async () => {
    const received: { path: string; body: string }[] = [];
    const sink = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ path: req.url!, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const sub = await connectAsync('mqtt://127.0.0.1:1883');
    await sub.subscribeAsync(outputs.events.uri, { qos: 1 });
    const got = new Promise<string>((resolve) =>
      sub.on('message', (_t, payload) => resolve(payload.toString())),
    );
    const s = await start({
      source: fixture('of-esm'),
      target: 'tryKnative',
      signatureType: 'openfunction',
      context: ofContext({ outputs }),
      components: [
        { name: 'mqtt-out', type: 'pubsub.mqtt3', metadata: { url: 'tcp://127.0.0.1:1883', qos: '1' } },
        {
          name: 'http-out',
          type: 'bindings.http',
          metadata: { url: `http://127.0.0.1:${(sink.address() as AddressInfo).port}` },
        },
      ],
    });
    try {
      const r = await fetch(s.url, { method: 'POST', headers: json, body: JSON.stringify({ send: 'real' }) });
      expect(r.status).toBe(200);
      // pub/sub is published in the CloudEvent daprd would wrap it in
      expect(JSON.parse(await got)).toMatchObject({
        type: 'com.dapr.event.sent',
        topic: outputs.events.uri,
        pubsubname: 'mqtt-out',
        data: { echoed: 'real' },
      });
      expect(received).toEqual([{ path: '/hook', body: JSON.stringify({ echoed: 'real' }) }]);
    } finally {
      await s.close();
      await sub.endAsync();
      sink.close();
    }
  });

  it('rejects, naming the output, when the broker is unreachable', async () => {
    const s = await start({
      source: fixture('of-esm'),
      target: 'tryKnative',
      signatureType: 'openfunction',
      context: ofContext({ outputs: { hook: outputs.hook } }),
      components: [{ name: 'http-out', type: 'bindings.http', metadata: { url: 'http://127.0.0.1:9' } }],
    });
    try {
      const { ctx } = { ctx: null };
      void ctx;
      const r = await fetch(s.url, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ send: 'x', output: 'hook' }),
      });
      expect(r.status).toBe(500);
      expect(r.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_FRAMEWORK_OUTPUT_FAILED');
    } finally {
      await s.close();
    }
  });

  it('talks to a Dapr sidecar HTTP API when DAPR_HTTP_PORT is set and no local component exists', async () => {
    const calls: { url: string; body: unknown }[] = [];
    const sidecar = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        calls.push({ url: req.url!, body: JSON.parse(body) });
        res.statusCode = req.url!.startsWith('/v1.0/publish') ? 204 : 200;
        res.end(res.statusCode === 200 ? '{"ok":true}' : '');
      });
    });
    await new Promise<void>((r) => sidecar.listen(0, '127.0.0.1', r));
    const port = String((sidecar.address() as AddressInfo).port);
    const s = await start(
      {
        source: fixture('of-esm'),
        target: 'tryKnative',
        signatureType: 'openfunction',
        context: ofContext({ outputs }),
      },
      { env: { DAPR_HTTP_PORT: port } },
    );
    try {
      expect(
        (await fetch(s.url, { method: 'POST', headers: json, body: JSON.stringify({ send: 'd' }) })).status,
      ).toBe(200);
      expect(calls).toContainEqual({
        url: '/v1.0/publish/mqtt-out/sprout%2Fframework-ctx-test',
        body: { echoed: 'd' },
      });
      expect(calls).toContainEqual({
        url: '/v1.0/bindings/http-out',
        body: { data: { echoed: 'd' }, operation: 'create', metadata: { path: '/hook' } },
      });
    } finally {
      await s.close();
      sidecar.close();
    }
  });
});

describe('ctx.state', () => {
  it('selects stores by name (the anchor always used the first) and reads back typed values', async () => {
    const states = {
      alpha: { componentName: 'store-a', componentType: 'state.redis' },
      beta: { componentName: 'store-b', componentType: 'state.postgresql' },
    } as const;
    const t = await testServer({
      source: fixture('of-esm'),
      target: 'counter',
      signatureType: 'openfunction',
      context: ofContext({ states }),
    });
    try {
      const hit = (store?: string) =>
        t
          .fetch('/', { method: 'POST', headers: json, body: JSON.stringify(store ? { store } : {}) })
          .then((r) => r.json());
      expect(await hit()).toEqual({ count: 1, store: 'default' });
      expect(await hit('beta')).toEqual({ count: 1, store: 'beta' });
      expect(await hit('beta')).toEqual({ count: 2, store: 'beta' });
      expect(await hit('alpha')).toEqual({ count: 2, store: 'alpha' });
      expect((await t.state.beta!.get('count'))?.value).toBe(2);
      const unknown = await t.fetch('/', { method: 'POST', headers: json, body: '{"store":"gamma"}' });
      expect(unknown.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_FRAMEWORK_UNKNOWN_STATE_STORE');
    } finally {
      await t.close();
    }
    const { ctx } = await createTestContext({ states });
    await ctx.state.save({ key: 'k', value: { n: 1 } });
    const entry = await ctx.state.entry<{ n: number }>('k');
    expect(entry?.value.n).toBe(1);
    await ctx.state.save({ key: 'k', value: { n: 2 }, etag: entry!.etag });
    // The first etag is stale now: a second conditional write with it is a conflict.
    await expect(ctx.state.save({ key: 'k', value: { n: 3 }, etag: entry!.etag })).rejects.toMatchObject({
      code: 'SPROUT_ERR_STATE_ETAG_MISMATCH',
    });
    expect(await ctx.state.get({ key: 'k' })).toEqual({ n: 2 });
    expect(await ctx.state.get('absent')).toBeUndefined();
  });
});

describe('plugins', () => {
  afterAll(() => {
    delete (globalThis as Record<string, unknown>).__pluginOrder;
  });
  const context = ofContext({ prePlugins: ['first', 'second'], postPlugins: ['second', 'first'] });

  it('run user pre hooks, the function and post hooks in order, post hooks even on error', async () => {
    const s = await start({
      source: fixture('plugins-fn'),
      target: 'withPlugins',
      signatureType: 'openfunction',
      context,
    });
    try {
      const r = await fetch(s.url, { method: 'POST', headers: json, body: '{}' });
      // The response is written after the post hooks, so it shows them too.
      expect(await r.json()).toEqual({
        order: ['first-pre', 'second-pre', 'function', 'second-post', 'first-post'],
      });
      expect((globalThis as Record<string, unknown>).__pluginOrder).toEqual([
        'first-pre',
        'second-pre',
        'function',
        'second-post',
        'first-post',
      ]);
      const failed = await fetch(s.url, { method: 'POST', headers: json, body: '{"fail":true}' });
      expect(failed.status).toBe(500);
      expect((globalThis as Record<string, unknown>).__pluginError).toBe('function failed');
      expect(s.functions[0]!.resources.plugins.get('second')?.ofn_plugin_version).toBe('v2');
    } finally {
      await s.close();
    }
  });

  it('refuse to start when a named plugin does not exist', async () => {
    await expect(
      start({
        source: fixture('plugins-fn'),
        target: 'withPlugins',
        signatureType: 'openfunction',
        context: ofContext({ prePlugins: ['missing'] }),
      }),
    ).rejects.toMatchObject({ code: 'SPROUT_ERR_FRAMEWORK_PLUGIN_NOT_FOUND' });
  });
});

describe('async runtime: Dapr app callbacks', () => {
  it('lists pub/sub inputs at /dapr/subscribe and delivers messages and binding events to the function', async () => {
    const context = ofContext({
      runtime: 'async',
      inputs: {
        orders: { componentName: 'kafka', componentType: 'pubsub.kafka', uri: 'orders' },
        tick: { componentName: 'cron', componentType: 'bindings.cron' },
      },
    });
    const s = await start({
      source: fixture('of-esm'),
      target: 'tryKnative',
      signatureType: 'openfunction',
      context,
    });
    try {
      expect(await (await fetch(`${s.url}/dapr/subscribe`)).json()).toEqual([
        {
          pubsubname: 'kafka',
          topic: 'orders',
          route: '/orders',
          bulkSubscribe: { enabled: true, maxMessagesCount: 100, maxAwaitDurationMs: 10 },
        },
      ]);
      const msg = await fetch(`${s.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify({
          specversion: '1.0',
          id: '1',
          source: 'kafka',
          type: 'com.dapr.event.sent',
          data: { n: 1 },
        }),
      });
      expect(await msg.json()).toEqual({ status: 'SUCCESS' });
      const tick = await fetch(`${s.url}/cron`, { method: 'POST', headers: json, body: '{"at":"now"}' });
      expect((await tick.json()).data).toEqual({ at: 'now' });
      expect((await fetch(`${s.url}/unknown`, { method: 'POST' })).status).toBe(404);
    } finally {
      await s.close();
    }
  });
});
