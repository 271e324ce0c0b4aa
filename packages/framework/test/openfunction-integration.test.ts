// OpenFunction's own integration tables (test/integration/{http,cloud_event,legacy_event}.ts in
// functions-framework-nodejs 0.6, its data vendored as JSON in test/fixtures/openfunction/integration)
// run against Sprout: the request each case sends, and what the function must have received.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningServer } from '@sprout/framework';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, start } from './helpers.js';

interface Case {
  name: string;
  headers?: Record<string, string>;
  body?: unknown;
  expectedCloudEvent?: Record<string, unknown>;
  expectedData?: unknown;
  expectedContext?: unknown;
  httpVerb?: string;
  path?: string;
  expectedBody?: unknown;
  expectedStatus?: number;
  expectedCallCount?: number;
}
const table = (name: string): Case[] =>
  JSON.parse(readFileSync(join(fixture('openfunction/integration'), `${name}.json`), 'utf8'));
const EPOCH = '1970-01-01T00:00:00.000Z';
const lower = (h: Record<string, string> = {}) =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

let events: RunningServer;
let calls = 0;
let http: RunningServer;
beforeAll(async () => {
  const source = fixture('event-echo');
  events = await start([
    { source, target: 'echoCloudEvent', signatureType: 'cloudevent', path: '/ce' },
    { source, target: 'echoLegacy', signatureType: 'event', path: '/legacy' },
  ]);
  // upstream's testHttpFunction
  http = await start({
    target: 'testHttpFunction',
    signatureType: 'http',
    fn: (
      req: { query: Record<string, string>; body: { text?: string } },
      res: { send(v: unknown): void },
    ) => {
      ++calls;
      if (req.query.crash) throw 'I crashed';
      res.send({ result: req.body.text, query: req.query.param });
    },
  });
});
afterAll(async () => {
  await events.close();
  await http.close();
});

const post = (url: string, c: Case) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...lower(c.headers) },
    body: JSON.stringify(c.body),
  });

describe("OpenFunction's integration tables", () => {
  it.each(table('cloud_event').map((c) => [c.name, c] as const))('cloud_event: %s', async (_name, c) => {
    const r = await post(`${events.url}/ce`, c);
    expect(r.status).toBe(200);
    const { event } = (await r.json()) as { event: Record<string, unknown> };
    const expected = c.expectedCloudEvent!;
    if (expected.time === EPOCH) {
      // upstream runs this case under a fake clock: a push body without publishTime is stamped "now"
      const message = (event.data as { message: Record<string, unknown> }).message;
      expect(Number.isNaN(Date.parse(String(event.time)))).toBe(false);
      expect(message.publishTime).toBe(event.time);
      event.time = message.publishTime = EPOCH;
    }
    expect(event).toEqual(expected);
  });

  it.each(table('legacy_event').map((c) => [c.name, c] as const))('legacy_event: %s', async (_name, c) => {
    const r = await post(`${events.url}/legacy`, c);
    expect(r.status).toBe(200);
    const context = c.expectedContext as Record<string, string>;
    // A CloudEvent that is not a Google one: upstream's context is its attributes; Sprout's is the
    // same plus the legacy names a background function reads (a named difference in the README).
    const legacyNames = context.specversion
      ? {
          eventId: context.id,
          timestamp: context.time,
          eventType: context.type,
          resource: context.subject ? `${context.source}/${context.subject}` : context.source,
        }
      : {};
    expect(await r.json()).toEqual({ data: c.expectedData, context: { ...context, ...legacyNames } });
  });

  it.each(table('http').map((c) => [c.name + ' ' + c.path, c] as const))('http: %s', async (_name, c) => {
    calls = 0;
    const r = await fetch(http.url + c.path, {
      method: c.httpVerb,
      headers: { 'content-type': 'application/json' },
      ...(c.httpVerb === 'GET' ? {} : { body: JSON.stringify({ text: 'hello' }) }),
    });
    expect(r.status).toBe(c.expectedStatus);
    if (r.status === 200) expect(await r.json()).toEqual(c.expectedBody);
    if (r.status === 500) expect(r.headers.get('x-openfunction-status')).toBe('crash');
    expect(calls).toBe(c.expectedCallCount);
  });
});
