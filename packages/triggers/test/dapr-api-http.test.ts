// Sprout's Dapr publish and bindings API over plain HTTP: what reaches the broker byte for byte,
// Dapr's error codes and statuses, limits, the token and the request guard, and fuzzed bodies.
import { connect } from 'node:net';
import { createLogger } from '@sprout/observe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDaprApiServer,
  openPubSub,
  type DaprApiServer,
  type Delivery,
  type PubSubEngine,
  type Subscription,
} from '../src/index.js';

const silent = createLogger({ level: 'silent' });
const servers: DaprApiServer[] = [];
const engines: PubSubEngine[] = [];
const subs: Subscription[] = [];
afterAll(async () => {
  for (const s of subs) await s.close();
  for (const s of servers) await s.close();
  for (const e of engines) await e.close();
});

async function serve(opts: { apiToken?: string; maxBodyBytes?: number } = {}) {
  const bus = await openPubSub({ name: 'bus', type: 'pubsub.in-memory', metadata: {} });
  engines.push(bus);
  const got: Delivery[] = [];
  for (const topic of ['orders', 'a/b/c']) {
    subs.push(
      await bus.subscribe({
        topic,
        group: 'api-http',
        maxInFlight: 1000,
        onMessage: (d) => {
          got.push(d);
          void d.ack();
        },
        onError: () => undefined,
      }),
    );
  }
  const api = createDaprApiServer({ pubsubs: { bus }, appId: 'shop', logger: silent, ...opts });
  servers.push(api);
  const { url } = await api.listen(0);
  return { url, bus, got };
}

type Answer = { status: number; body: any; headers: Headers };
async function call(url: string, path: string, init: RequestInit = {}): Promise<Answer> {
  const r = await fetch(url + path, { method: 'POST', ...init });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: r.status, body, headers: r.headers };
}
const reason = (a: Answer) => a.body?.details?.[0]?.reason;
const text = (d: Delivery) => Buffer.from(d.data).toString('utf8');

describe('POST /v1.0/publish', () => {
  let s: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    s = await serve();
  });

  it('wraps a JSON body in Dapr CloudEvent and hands metadata.* to the broker', async () => {
    const r = await call(s.url, '/v1.0/publish/bus/orders?metadata.partitionKey=p1&other=x', {
      headers: {
        'content-type': 'application/json',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
      body: '{"id":1}',
    });
    expect(r.status).toBe(204);
    const d = s.got.at(-1)!;
    expect(d.metadata).toEqual({ partitionKey: 'p1' });
    const ce = JSON.parse(text(d));
    expect(ce).toMatchObject({
      data: { id: 1 },
      datacontenttype: 'application/json',
      source: 'shop',
      type: 'com.dapr.event.sent',
      specversion: '1.0',
      topic: 'orders',
      pubsubname: 'bus',
    });
    expect(ce.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
  });

  it('publishes the body as it is with metadata.rawPayload=true, and topics may hold slashes', async () => {
    const r = await call(s.url, '/v1.0/publish/bus/a/b/c?metadata.rawPayload=true', { body: 'raw bytes' });
    expect(r.status).toBe(204);
    expect(text(s.got.at(-1)!)).toBe('raw bytes');
    expect(s.got.at(-1)!.topic).toBe('a/b/c');
  });

  it('passes an application/cloudevents+json body through', async () => {
    const r = await call(s.url, '/v1.0/publish/bus/orders', {
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ id: 'ce-1', source: 'mine', type: 'x', specversion: '1.0', data: 5 }),
    });
    expect(r.status).toBe(204);
    expect(JSON.parse(text(s.got.at(-1)!))).toMatchObject({
      id: 'ce-1',
      source: 'mine',
      data: 5,
      topic: 'orders',
    });
  });

  // [path, init, status, Dapr errorCode, Sprout reason]
  const BAD: [string, RequestInit, number, string, string][] = [
    [
      '/v1.0/publish/nope/orders',
      { body: '{}' },
      404,
      'ERR_PUBSUB_NOT_FOUND',
      'SPROUT_ERR_TRIGGERS_PUBSUB_NOT_FOUND',
    ],
    ['/v1.0/publish/bus', { body: '{}' }, 404, 'ERR_TOPIC_NAME_EMPTY', 'SPROUT_ERR_TRIGGERS_REQUEST_INVALID'],
    [
      '/v1.0/publish/bus/orders?metadata.rawPayload=maybe',
      { body: '{}' },
      400,
      'ERR_PUBSUB_REQUEST_METADATA',
      'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
    ],
    [
      '/v1.0/publish/bus/orders',
      { headers: { 'content-type': 'application/cloudevents+json' }, body: '{nope' },
      400,
      'ERR_PUBSUB_CLOUD_EVENTS_SER',
      'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
    ],
    [
      '/v1.0-alpha1/publish/bulk/bus/orders',
      { body: '{"not":"an array"}' },
      400,
      'ERR_PUBSUB_EVENTS_SER',
      'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
    ],
    [
      '/v1.0-alpha1/publish/bulk/bus/orders',
      { body: '[{"event":1,"contentType":"application/json"}]' },
      400,
      'ERR_PUBSUB_EVENTS_SER',
      'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
    ],
    [
      '/v1.0-alpha1/publish/bulk/bus/orders',
      {
        body: '[{"entryId":"1","event":1,"contentType":"application/json"},{"entryId":"1","event":2,"contentType":"application/json"}]',
      },
      400,
      'ERR_PUBSUB_EVENTS_SER',
      'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
    ],
    [
      '/v1.0-alpha1/publish/bulk/bus/orders',
      { body: '[{"entryId":"1","event":{"a":1},"contentType":"text/plain"}]' },
      400,
      'ERR_PUBSUB_EVENTS_SER',
      'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
    ],
    [
      '/v1.0/bindings/none',
      { body: '{nope' },
      400,
      'ERR_MALFORMED_REQUEST',
      'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
    ],
    [
      '/v1.0/bindings/none',
      { body: '{"operation":"create"}' },
      500,
      'ERR_INVOKE_OUTPUT_BINDING',
      'SPROUT_ERR_TRIGGERS_BINDING_NOT_FOUND',
    ],
    [
      '/v1.0/bindings/none',
      { body: '{"operation":"create","metadata":{"k":1}}' },
      400,
      'ERR_MALFORMED_REQUEST',
      'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
    ],
    ['/v1.0/state/x', { body: '{}' }, 404, 'ERR_NOT_FOUND', 'SPROUT_ERR_TRIGGERS_REQUEST_INVALID'],
  ];
  it.each(BAD)('%s %j → %i %s', async (path, init, status, errorCode, why) => {
    const before = s.got.length;
    const r = await call(s.url, path, init);
    expect(r.status).toBe(status);
    expect(r.body.errorCode).toBe(errorCode);
    expect(reason(r)).toBe(why);
    expect(s.got.length).toBe(before);
  });

  it('bulk: entry metadata over request metadata, entryId in any case (the SDK writes entryID)', async () => {
    const before = s.got.length;
    const r = await call(s.url, '/v1.0-alpha1/publish/bulk/bus/orders?metadata.m=req', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { entryID: 'a', event: { n: 1 }, contentType: 'application/json', metadata: { m: 'entry' } },
        { entryId: 'b', event: 'AQI=', contentType: 'application/octet-stream' },
      ]),
    });
    expect(r.status).toBe(204);
    const [a, b] = s.got.slice(before);
    expect(a!.metadata).toEqual({ m: 'entry' });
    expect(JSON.parse(text(a!)).data).toEqual({ n: 1 });
    expect(b!.metadata).toEqual({ m: 'req' });
    expect(JSON.parse(text(b!))).toMatchObject({
      data_base64: 'AQI=',
      datacontenttype: 'application/octet-stream',
    });
  });

  it('bulk: entries the broker refuses come back as failedEntries with Dapr errorCode', async () => {
    const t = await serve();
    await t.bus.close();
    const r = await call(t.url, '/v1.0-alpha1/publish/bulk/bus/orders', {
      body: JSON.stringify([
        { entryId: 'x1', event: 1, contentType: 'application/json' },
        { entryId: 'x2', event: 2, contentType: 'application/json' },
      ]),
    });
    expect(r.status).toBe(500);
    expect(r.body.errorCode).toBe('ERR_PUBSUB_PUBLISH_MESSAGE');
    expect(r.body.failedEntries.map((e: { entryId: string }) => e.entryId)).toEqual(['x1', 'x2']);
    expect(r.body.failedEntries[0].error).toMatch(/closed/);
    const one = await call(t.url, '/v1.0/publish/bus/orders', { body: '{}' });
    expect(one.status).toBe(500);
    expect(one.body.errorCode).toBe('ERR_PUBSUB_PUBLISH_MESSAGE');
    expect(reason(one)).toBe('SPROUT_ERR_TRIGGERS_CLOSED');
  });

  it('counts requests on /metrics with bounded labels', async () => {
    const m = await fetch(`${s.url}/metrics`);
    const body = await m.text();
    expect(body).toMatch(
      /sprout_triggers_api_requests_total\{route="publish",component="bus",status="204"\} \d+/,
    );
    // an unknown pub/sub name is not a label value
    expect(body).not.toMatch(/component="nope"/);
  });
});

describe('limits, token and guard', () => {
  it('refuses a body over the limit with 413 and keeps serving', async () => {
    const s = await serve({ maxBodyBytes: 64 });
    const r = await call(s.url, '/v1.0/publish/bus/orders', { body: 'x'.repeat(65) });
    expect(r.status).toBe(413);
    expect(reason(r)).toBe('SPROUT_ERR_TRIGGERS_BODY_TOO_LARGE');
    expect((await call(s.url, '/v1.0/publish/bus/orders', { body: 'x'.repeat(64) })).status).toBe(204);
  });

  it('asks for dapr-api-token everywhere but healthz, and refuses a foreign Host', async () => {
    const token = 'k'.repeat(32);
    const s = await serve({ apiToken: token });
    expect((await call(s.url, '/v1.0/healthz', { method: 'GET' })).status).toBe(204);
    const no = await call(s.url, '/v1.0/publish/bus/orders', { body: '{}' });
    expect(no.status).toBe(401);
    expect(reason(no)).toBe('SPROUT_ERR_TRIGGERS_UNAUTHORIZED');
    const wrong = await call(s.url, '/v1.0/publish/bus/orders', {
      body: '{}',
      headers: { 'dapr-api-token': 'x'.repeat(32) },
    });
    expect(wrong.status).toBe(401);
    const ok = await call(s.url, '/v1.0/publish/bus/orders', {
      body: '{}',
      headers: { 'dapr-api-token': token },
    });
    expect(ok.status).toBe(204);
    const cross = await call(s.url, '/v1.0/publish/bus/orders', {
      body: '{}',
      headers: { 'dapr-api-token': token, origin: 'http://evil.example' },
    });
    expect(cross.status).toBe(403);
    expect(reason(cross)).toBe('SPROUT_ERR_HTTP_CROSS_ORIGIN');
  });
});

/** Sends `bytes` on a raw connection and resolves with the status line (or '' when closed without one). */
function raw(url: string, bytes: Buffer[]): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const sock = connect(Number(port), '127.0.0.1');
    let got = '';
    sock.on('data', (c) => (got += c.toString('latin1')));
    sock.on('error', () => undefined);
    sock.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
    sock.on('connect', () => {
      let i = 0;
      const next = () => {
        if (i < bytes.length) sock.write(bytes[i++]!, next);
        else sock.end();
      };
      next();
    });
    sock.setTimeout(2000, () => sock.destroy());
  });
}

/** A small deterministic generator (seeded), so a failure can be replayed. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('fuzzed bodies', () => {
  it('random bytes and valid requests split at random points never crash the server; whatever is published is a CloudEvent of the topic', async () => {
    const s = await serve({ maxBodyBytes: 4096 });
    const seed = Number(process.env.SPROUT_FUZZ_SEED ?? Date.now() % 100000);
    const rand = rng(seed);
    const paths = ['/v1.0/publish/bus/orders', '/v1.0-alpha1/publish/bulk/bus/orders', '/v1.0/bindings/x'];
    const valid = [
      '{"id":1}',
      '[{"entryId":"1","event":{"a":1},"contentType":"application/json"}]',
      '{"operation":"create","data":1}',
    ];
    const deadline = Date.now() + 2500;
    let runs = 0;
    const statuses = new Set<string>();
    while (runs <= 20 || (Date.now() < deadline && runs < 300)) {
      const k = Math.floor(rand() * paths.length);
      const junk = rand() < 0.5;
      const body = junk
        ? Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)))
        : Buffer.from(valid[k]!);
      const type = rand() < 0.3 ? 'application/cloudevents+json' : 'application/json';
      const head = Buffer.from(
        `POST ${paths[k]} HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: ${type}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`,
      );
      const whole = Buffer.concat([head, body]);
      const cut = Math.floor(rand() * whole.length);
      const line = await raw(s.url, [whole.subarray(0, cut), whole.subarray(cut)]);
      const status = line.split(' ')[1] ?? '';
      statuses.add(status);
      expect(['204', '400', '404', '500'], `seed ${seed}: ${line}`).toContain(status);
      runs++;
    }
    expect(runs).toBeGreaterThan(20);
    // Every published message is a well-formed CloudEvent of this topic (garbage was refused, not sent).
    for (const d of s.got) expect(JSON.parse(text(d)).topic, `seed ${seed}`).toBe('orders');
    expect((await call(s.url, '/v1.0/publish/bus/orders', { body: '{"after":"fuzz"}' })).status).toBe(204);
    expect(statuses.has('204')).toBe(true);
  });
});
