import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudEvent, HTTP } from 'cloudevents';
import type { RunningServer } from '@sprout/framework';
import { fixture, json, start } from './helpers.js';

describe('functions written for Google functions framework (ESM, declarative API)', () => {
  let s: RunningServer;
  let ce: RunningServer;
  let typed: RunningServer;
  beforeAll(async () => {
    s = await start({ source: fixture('google-esm'), target: 'helloHttp' });
    ce = await start({ source: fixture('google-esm'), target: 'helloCloudEvent' });
    typed = await start({ source: fixture('google-esm'), target: 'add' });
  });
  afterAll(async () => Promise.all([s.close(), ce.close(), typed.close()]));

  it('serves the http registration with query and JSON body', async () => {
    expect(await (await fetch(`${s.url}/?name=Ada`)).text()).toBe('Hello Ada!');
    const r = await fetch(s.url, { method: 'POST', headers: json, body: JSON.stringify({ name: 'Bob' }) });
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
    expect(await r.text()).toBe('Hello Bob!');
  });

  it('takes the signature type from the registration', () => {
    expect(ce.server.mounts[0]?.signatureType).toBe('cloudevent');
    expect(typed.server.mounts[0]?.signatureType).toBe('typed');
  });

  it('receives binary-mode and structured-mode CloudEvents from the official SDK', async () => {
    const event = new CloudEvent({
      type: 'com.example.order',
      source: '/orders',
      data: { id: 7 },
      subject: 's1',
    });
    for (const message of [HTTP.binary(event), HTTP.structured(event)]) {
      const r = await fetch(ce.url, {
        method: 'POST',
        headers: message.headers as Record<string, string>,
        body: message.body as string,
      });
      expect(r.status).toBe(204);
      const seen = (globalThis as { __lastEvent?: Record<string, unknown> }).__lastEvent!;
      expect(seen).toMatchObject({
        id: event.id,
        type: 'com.example.order',
        source: '/orders',
        subject: 's1',
        data: { id: 7 },
      });
    }
  });

  it('serves a typed function: JSON in, JSON out', async () => {
    const r = await fetch(typed.url, { method: 'POST', headers: json, body: '{"a":2,"b":3}' });
    expect(await r.json()).toEqual({ sum: 5 });
  });
});

describe('CommonJS functions', () => {
  it('serves require()-style registrations, exports, callbacks and dotted targets', async () => {
    const reg = await start({ source: fixture('google-cjs'), target: 'helloHttp' });
    const exp = await start({ source: fixture('google-cjs'), target: 'helloWorld' });
    const dotted = await start({ source: fixture('google-cjs'), target: 'nested.deeper.fn' });
    const cb = await start({
      source: fixture('google-cjs'),
      target: 'callbackEvent',
      signatureType: 'event',
    });
    const whole = await start({ source: `${fixture('cjs-exports')}/index.cjs` });
    try {
      const r = await fetch(reg.url, { method: 'PUT', headers: json, body: '{"name":"cjs"}' });
      expect(r.status).toBe(201);
      expect(r.headers.get('x-from')).toBe('cjs');
      expect(await r.json()).toEqual({ hello: 'cjs', method: 'PUT' });
      expect(await (await fetch(exp.url)).text()).toBe('Hello from CommonJS');
      expect(await (await fetch(dotted.url)).text()).toBe('dotted');
      const ev = await fetch(cb.url, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ context: { eventId: 'e1', eventType: 't', resource: 'r' }, data: { x: 1 } }),
      });
      expect(await ev.json()).toEqual({ got: { x: 1 }, id: 'e1' });
      expect(await (await fetch(whole.url)).text()).toBe('module.exports is the function');
    } finally {
      await Promise.all([reg.close(), exp.close(), dotted.close(), cb.close(), whole.close()]);
    }
  });
});

describe('legacy event and CloudEvent conversions', () => {
  let ev: RunningServer;
  let ce: RunningServer;
  beforeAll(async () => {
    ev = await start({ source: fixture('event-legacy'), target: 'helloEvent', signatureType: 'event' });
    ce = await start({ source: fixture('event-legacy'), target: 'helloCe', signatureType: 'cloudevent' });
  });
  afterAll(async () => Promise.all([ev.close(), ce.close()]));

  it('gives an event function a flat legacy body and a CloudEvent as (data, context)', async () => {
    const flat = await fetch(ev.url, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        eventId: '1',
        eventType: 'legacy.type',
        resource: 'projects/p',
        data: { a: 1 },
      }),
    });
    expect(await flat.json()).toEqual({ data: { a: 1 }, eventType: 'legacy.type', resource: 'projects/p' });
    const msg = HTTP.binary(new CloudEvent({ type: 'ce.type', source: '/src', data: { b: 2 } }));
    const viaCe = await fetch(ev.url, {
      method: 'POST',
      headers: msg.headers as Record<string, string>,
      body: msg.body as string,
    });
    expect(await viaCe.json()).toEqual({ data: { b: 2 }, eventType: 'ce.type', resource: '/src' });
  });

  it('gives a cloudevent function a legacy event converted, and its return value as the response', async () => {
    const r = await fetch(ce.url, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        context: { eventId: 'x9', eventType: 'old.type', resource: 'res' },
        data: 'payload',
      }),
    });
    expect(await r.json()).toEqual({ id: 'x9', type: 'old.type', source: 'res', data: 'payload' });
  });

  it('answers 400 with a code for a CloudEvent missing required attributes', async () => {
    const r = await fetch(ce.url, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ specversion: '1.0', source: '/s', type: 't' }),
    });
    expect(r.status).toBe(400);
    expect(r.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_FRAMEWORK_MALFORMED_CLOUDEVENT');
    expect((await r.json()).error.message).toMatch(/"id"/);
    const binary = await fetch(ce.url, {
      method: 'POST',
      headers: { 'ce-specversion': '1.0', 'ce-id': '1', 'ce-type': 't' },
      body: '',
    });
    expect(binary.status).toBe(400);
  });
});

describe('TypeScript functions without a build step', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await start([
      { source: fixture('ts-http'), target: 'hello', path: '/hello' },
      { source: fixture('ts-http'), target: 'respond', path: '/respond' },
      { source: fixture('ts-http'), target: 'nothing', path: '/nothing' },
      { source: fixture('ts-registered'), target: 'double', path: '/double' },
      { source: fixture('ts-registered'), target: 'plain', path: '/plain' },
      { source: fixture('ts-esm-only'), target: 'meta', path: '/meta' },
    ]);
  });
  afterAll(() => s.close());

  it('runs TypeScript that imports other TypeScript, returning objects as JSON', async () => {
    const r = await fetch(`${s.url}/hello`, { method: 'POST', headers: json, body: '{"name":"TS"}' });
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(await r.json()).toEqual({ message: 'Hello, TS!' });
  });

  it('honours a {code, headers, body} return value and answers 204 for undefined', async () => {
    const r = await fetch(`${s.url}/respond`);
    expect(r.status).toBe(202);
    expect(r.headers.get('x-custom')).toBe('yes');
    expect(await r.text()).toBe('accepted');
    expect((await fetch(`${s.url}/nothing`)).status).toBe(204);
  });

  it('runs TypeScript that needs ES module semantics (import.meta, top-level await, extensionless imports)', async () => {
    expect(await (await fetch(`${s.url}/meta`)).json()).toEqual({
      file: 'index.ts',
      ready: 42,
      suffix: 'extensionless import resolved',
    });
  });

  it('routes several functions in one process by path, with TS declarative registration', async () => {
    const r = await fetch(`${s.url}/double`, { method: 'POST', headers: json, body: '{"n":21}' });
    expect(await r.json()).toEqual({ doubled: 42 });
    expect(await (await fetch(`${s.url}/plain`)).text()).toBe('registered http');
    const missing = await fetch(`${s.url}/nope`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('SPROUT_ERR_FRAMEWORK_NO_ROUTE');
  });
});
