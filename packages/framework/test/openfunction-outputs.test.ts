// ctx.send as OpenFunction's own tests and e2e functions use it (test/fixtures/openfunction, upstream's
// data and functions): every output of the context at once, bindings and pub/sub through a Dapr
// sidecar (an HTTP server here that records the Dapr API calls; no daprd runs on these machines),
// and pub/sub natively over the real Mosquitto on 1883, in the envelope daprd publishes.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { loadResources } from '@sprout/spec';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fixture, json, start } from './helpers.js';

const upstream = fixture('openfunction');
const readJson = (...path: string[]) => JSON.parse(readFileSync(join(upstream, ...path), 'utf8'));
const knativeBase = readJson('mock', 'knative-base.json');
const plain = readJson('mock', 'plain.json') as { RAW: object; CE: object };

const calls: { url: string; body: unknown }[] = [];
let sidecar: Server;
let daprPort: string;
beforeAll(async () => {
  sidecar = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      calls.push({ url: req.url!, body: body ? JSON.parse(body) : undefined });
      res.statusCode = req.url!.startsWith('/v1.0/publish') ? 204 : 200;
      res.end();
    });
  });
  await new Promise<void>((r) => sidecar.listen(0, '127.0.0.1', r));
  daprPort = String((sidecar.address() as AddressInfo).port);
});
afterAll(() => new Promise<void>((r) => sidecar.close(() => r())));

describe("OpenFunction's http_binding test: ctx.send(data) reaches every output", () => {
  // upstream's testData: the outputs' operation per case; '' is the failing case
  it.each(['create', 'get', 'delete'])(
    'operation %s: both file outputs get the data, the answer is the data',
    async (operation) => {
      calls.length = 0;
      const context = structuredClone(knativeBase);
      for (const out of Object.values(context.outputs) as { operation?: string }[]) out.operation = operation;
      const s = await start(
        { source: fixture('of-outputs'), target: 'sendAll', signatureType: 'openfunction', context },
        { env: { DAPR_HTTP_PORT: daprPort } },
      );
      try {
        const r = await fetch(s.url, { method: 'POST', headers: json, body: JSON.stringify(plain.RAW) });
        expect(r.status).toBe(200);
        expect(await r.json()).toEqual(plain.RAW);
        expect(calls).toEqual(
          ['my-file1.txt', 'my-file2.txt'].map((fileName) => ({
            url: '/v1.0/bindings/local',
            body: { data: plain.RAW, operation, metadata: { fileName } },
          })),
        );
      } finally {
        await s.close();
      }
    },
  );

  it('a function that throws: 500 with X-OpenFunction-Status: error, as upstream checks', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const s = await start(
      { source: fixture('of-outputs'), target: 'crash', signatureType: 'openfunction', context: knativeBase },
      { env: { DAPR_HTTP_PORT: daprPort } },
    );
    try {
      const r = await fetch(s.url, { method: 'POST', headers: json, body: JSON.stringify(plain.RAW) });
      expect(r.status).toBe(500);
      expect(r.headers.get('x-openfunction-status')).toBe('error');
    } finally {
      await s.close();
      vi.restoreAllMocks();
    }
  });
});

describe("OpenFunction's knative e2e functions, unchanged", () => {
  it.each([
    [
      'knative-openfunction-bindings',
      'writeKnativeBindings',
      'Openfunction-Nodejs-Knative-Openfunction-Bindings',
      (data: object) => ({
        url: '/v1.0/bindings/knative-openfunction-bindings-component',
        body: { data, operation: 'get' },
      }),
    ],
    [
      'knative-openfunction-pubsub',
      'writeKnativePubsub',
      'Openfunction-Nodejs-Knative-Openfunction-Pubsub',
      (data: object) => ({ url: '/v1.0/publish/knative-openfunction-pubsub-component/create', body: data }),
    ],
  ])('%s answers what verify.sh expects and sends through the sidecar', async (dir, target, hello, call) => {
    calls.length = 0;
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const s = await start(
      {
        source: join(upstream, dir, 'function.js'),
        target,
        signatureType: 'openfunction',
        context: readJson(dir, 'context.json'),
      },
      { env: { DAPR_HTTP_PORT: daprPort } },
    );
    try {
      const body = { Hello: hello }; // verify.sh's body; expected.data.yaml is `Hello: <hello>`
      const r = await fetch(s.url, { method: 'POST', headers: json, body: JSON.stringify(body) });
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual(body);
      expect(calls).toEqual([call(body)]);
    } finally {
      await s.close();
      vi.restoreAllMocks();
    }
  });
});

describe("OpenFunction's async_server test: mqtt sub w/ pub output", () => {
  const asyncBase = readJson('mock', 'async-base.json');
  // upstream's own component file (pubsub.mqtt on localhost:1883), as the framework gets components
  const components = loadResources(join(upstream, 'test/data/components/async')).components.map((c) => ({
    name: c.metadata.name,
    type: c.spec.type,
    metadata: Object.fromEntries(c.spec.metadata.map((m) => [m.name, String(m.value)])),
  }));

  it.each([
    ['in the CloudEvent daprd would wrap it in', {}],
    ['as it is with rawPayload', { rawPayload: 'true' }],
  ])(
    'a CloudEvent on the mqtt_sub input is forwarded to mqtt_pub and published %s',
    async (_how, metadata) => {
      const topic = `sprout/of-outputs-${process.pid}-${Date.now().toString(36)}`;
      const context = structuredClone(asyncBase);
      context.outputs.mqtt_pub = { ...context.outputs.mqtt_pub, uri: topic, metadata };
      const sub = await connectAsync('mqtt://127.0.0.1:1883');
      const got = new Promise<string>((resolve) => sub.on('message', (_t, p) => resolve(p.toString())));
      await sub.subscribeAsync(topic, { qos: 1 });
      const s = await start({ source: fixture('of-outputs'), target: 'forward', context, components });
      try {
        const r = await fetch(`${s.url}/mqtt_sub`, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify(plain.CE),
        });
        expect(r.status).toBe(200);
        const payload = JSON.parse(await got);
        if (metadata.rawPayload) {
          expect(payload).toEqual(plain.RAW);
        } else {
          expect(payload.data).toEqual(plain.RAW); // upstream's assertion
          expect(payload).toMatchObject({
            specversion: '1.0',
            type: 'com.dapr.event.sent',
            source: asyncBase.name,
            datacontenttype: 'application/json',
            topic,
            pubsubname: 'pubsub-mqtt',
          });
          expect(typeof payload.id).toBe('string');
        }
      } finally {
        await s.close();
        await sub.endAsync();
      }
    },
  );
});
