import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '@sprout/http/testing';
import type { RunningServer } from '@sprout/framework';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, start } from './helpers.js';

// Behaviour of Google's functions framework (node_modules) that Sprout keeps, checked side by side
// on the same function file: x-google-status on a failure, structured CloudEvents sent as plain
// JSON keeping every attribute, traceparent, the span id of X-Cloud-Trace-Context, and
// LOG_EXECUTION_ID log lines (console and raw stream writes).
const gffMain = fileURLToPath(
  new URL('../../../node_modules/@google-cloud/functions-framework/build/src/main.js', import.meta.url),
);
const source = fixture('gff-compat');
type Target = 'failHttp' | 'failEvent' | 'echoEvent' | 'echoLegacy' | 'logs' | 'spanOf';
const signature: Record<Target, 'http' | 'cloudevent' | 'event'> = {
  failHttp: 'http',
  failEvent: 'cloudevent',
  echoEvent: 'cloudevent',
  echoLegacy: 'event',
  logs: 'http',
  spanOf: 'http',
};

const children: ChildProcess[] = [];
const servers: RunningServer[] = [];
const gff = {} as Record<Target, { url: string; out: string[] }>;
const ours = {} as Record<Target, string>;
// What this process writes to stdout/stderr, captured under Sprout's LOG_EXECUTION_ID rewriting
// (installed first, so serve() wraps it and the capture sees the final lines).
const written: string[] = [];
const releaseCapture: (() => void)[] = [];
function capture(stream: NodeJS.WriteStream): () => void {
  const real = stream.write;
  stream.write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
    const text = String(chunk);
    written.push(...text.split('\n'));
    if (text.includes('"logging.googleapis.com/labels"')) return true; // ours: kept out of the test output
    return (real as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
  } as NodeJS.WriteStream['write'];
  return () => (stream.write = real);
}

async function waitUp(url: string): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      await fetch(url, { method: 'OPTIONS' });
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

beforeAll(async () => {
  releaseCapture.push(capture(process.stdout), capture(process.stderr));
  const taken = new Set<number>();
  for (const target of Object.keys(signature) as Target[]) {
    const s = await start(
      { source, target, signatureType: signature[target] },
      { logExecutionId: target === 'logs' },
    );
    servers.push(s);
    ours[target] = `http://127.0.0.1:${s.port}/`;
    // Each Google framework gets a port of its own: none listens yet when the next port is asked
    // for, so the system could hand out the same free port twice (two frameworks on one port, the
    // second one exiting, and one target's URL answered by another target's framework).
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    const child = spawn(
      process.execPath,
      [gffMain, `--target=${target}`, `--signature-type=${signature[target]}`, `--source=${source}`],
      {
        env: { ...process.env, PORT: String(port), NODE_ENV: 'production', LOG_EXECUTION_ID: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const out: string[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(...b.toString().split('\n')));
    child.stderr!.on('data', (b: Buffer) => out.push(...b.toString().split('\n')));
    children.push(child);
    gff[target] = { url: `http://127.0.0.1:${port}/`, out };
  }
  await Promise.all(Object.values(gff).map((g) => waitUp(g.url)));
}, 60_000);

afterAll(async () => {
  for (const c of children) c.kill();
  await Promise.all(servers.map((s) => s.close()));
  for (const release of releaseCapture) release();
});

const json = { 'content-type': 'application/json' };

describe('Google functions framework behaviour kept by Sprout', () => {
  it.each([
    ['failHttp', 'crash'],
    ['failEvent', 'error'],
  ] as const)('%s answers 500 with x-google-status: %s, as Google does', async (target, status) => {
    const init = {
      method: 'POST',
      headers: { ...json, 'ce-specversion': '1.0', 'ce-id': 'i', 'ce-source': '/s', 'ce-type': 't' },
      body: '{}',
    };
    const [a, b] = await Promise.all([fetch(ours[target], init), fetch(gff[target].url, init)]);
    expect(b.status).toBe(500);
    expect(b.headers.get('x-google-status')).toBe(status);
    expect(a.status).toBe(500);
    expect(a.headers.get('x-google-status')).toBe(status);
    expect(a.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_FRAMEWORK_FUNCTION_FAILED');
  });

  it('keeps every attribute of a structured CloudEvent sent as application/json', async () => {
    const event = {
      specversion: '1.0',
      id: 'e1',
      source: '//pubsub.googleapis.com/projects/p/topics/t',
      type: 'google.cloud.pubsub.topic.v1.messagePublished',
      subject: 'sub',
      time: '2020-09-29T11:32:00.123Z',
      dataschema: 'https://example.com/schema',
      datacontenttype: 'application/json',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      myextension: 'x',
      data: { message: { data: 'aGk=' } },
    };
    const init = { method: 'POST', headers: json, body: JSON.stringify(event) };
    const [a, b] = await Promise.all([fetch(ours.echoEvent, init), fetch(gff.echoEvent.url, init)]);
    expect(await b.json()).toEqual({ event });
    expect(await a.json()).toEqual({ event });
  });

  it('carries a traceparent header into a structured event sent as plain JSON and a binary one, as Google does', async () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const event = { specversion: '1.0', id: 'e2', source: '/s', type: 't', data: { a: 1 } };
    const plain = { method: 'POST', headers: { ...json, traceparent: tp }, body: JSON.stringify(event) };
    const binaryHeaders = { 'ce-specversion': '1.0', 'ce-id': 'e2', 'ce-source': '/s', 'ce-type': 't' };
    const binary = {
      method: 'POST',
      headers: { ...json, ...binaryHeaders, traceparent: tp },
      body: '{"a":1}',
    };
    for (const init of [plain, binary]) {
      const [a, b] = await Promise.all([fetch(ours.echoEvent, init), fetch(gff.echoEvent.url, init)]);
      const [ea, eb] = [(await a.json()) as { event: object }, (await b.json()) as { event: object }];
      expect(eb.event).toEqual({ ...event, traceparent: tp });
      // Binary mode: Sprout maps Content-Type to datacontenttype (CloudEvents HTTP binding); Google drops it.
      const extra = init === binary ? { datacontenttype: 'application/json' } : {};
      expect(ea.event).toEqual({ ...eb.event, ...extra });
    }
  });

  it('keeps an event’s own traceparent where Google overwrites it with the header (a named difference)', async () => {
    const own = '00-11111111111111111111111111111111-2222222222222222-01';
    const header = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const init = {
      method: 'POST',
      headers: {
        ...json,
        'ce-specversion': '1.0',
        'ce-id': 'e3',
        'ce-source': '/s',
        'ce-type': 't',
        'ce-traceparent': own,
        traceparent: header,
      },
      body: '{}',
    };
    const [a, b] = await Promise.all([fetch(ours.echoEvent, init), fetch(gff.echoEvent.url, init)]);
    expect(((await b.json()) as { event: { traceparent: string } }).event.traceparent).toBe(header);
    expect(((await a.json()) as { event: { traceparent: string } }).event.traceparent).toBe(own);
  });

  // The fallbacks of the README's "Google event types" section, side by side.
  const post = (headers: Record<string, string>, body: unknown) => ({
    method: 'POST',
    headers: { ...json, ...headers },
    body: JSON.stringify(body),
  });
  const both = async (target: Target, init: RequestInit) => {
    const [a, b] = await Promise.all([fetch(ours[target], init), fetch(gff[target].url, init)]);
    return { ours: a, gff: b };
  };

  const ceHeaders = (attributes: Record<string, string>) =>
    Object.fromEntries(Object.entries(attributes).map(([k, v]) => [`ce-${k}`, v]));
  /** What Sprout gives an event function for a CloudEvent it does not convert by the table. */
  const sproutContext = (a: Record<string, string>, resource: string) => ({
    ...a,
    datacontenttype: 'application/json',
    eventId: a.id,
    timestamp: a.time,
    eventType: a.type,
    resource,
  });

  it('a legacy event of an unknown type: generic conversion on Sprout, handed over unconverted by Google', async () => {
    const legacy = {
      context: { eventId: '1', eventType: 'com.x', resource: 'r', timestamp: 't' },
      data: { a: 1 },
    };
    const r = await both('echoEvent', post({}, legacy));
    expect(await r.gff.json()).toEqual({ event: legacy });
    expect(await r.ours.json()).toEqual({
      event: {
        specversion: '1.0',
        id: '1',
        source: 'r',
        type: 'com.x',
        time: 't',
        datacontenttype: 'application/json',
        data: { a: 1 },
      },
    });
  });

  it('a known legacy type whose resource does not split: generic conversion on Sprout, 500 from Google', async () => {
    const legacy = {
      context: { eventId: '1', eventType: 'google.storage.object.finalize', resource: 'bad', timestamp: 't' },
      data: {},
    };
    const r = await both('echoEvent', post({}, legacy));
    expect(r.gff.status).toBe(500);
    expect(await r.ours.json()).toMatchObject({
      event: { id: '1', source: 'bad', type: 'google.storage.object.finalize', data: {} },
    });
  });

  it('a Google CloudEvent whose source is not //service/name: its attributes plus the legacy names on Sprout, 500 from Google', async () => {
    const attributes = {
      specversion: '1.0',
      id: '1',
      source: 'bad',
      type: 'google.cloud.storage.object.v1.finalized',
      time: 't',
    };
    const r = await both('echoLegacy', post(ceHeaders(attributes), {}));
    expect(r.gff.status).toBe(500);
    expect(await r.ours.json()).toEqual({ data: {}, context: sproutContext(attributes, 'bad') });
  });

  it('a CloudEvent of another type to an event function: the attributes as context on both, plus the legacy names on Sprout', async () => {
    const attributes = {
      specversion: '1.0',
      id: '2',
      source: '/s',
      type: 'com.example.t',
      subject: 'x',
      time: 't',
    };
    const r = await both('echoLegacy', post(ceHeaders(attributes), { a: 1 }));
    expect(await r.gff.json()).toEqual({ data: { a: 1 }, context: attributes });
    expect(await r.ours.json()).toEqual({ data: { a: 1 }, context: sproutContext(attributes, '/s/x') });
  });

  it('a structured-mode Google CloudEvent to an event function: converted on Sprout, the whole event as context on Google', async () => {
    const event = {
      specversion: '1.0',
      id: '1',
      source: '//storage.googleapis.com/projects/_/buckets/b',
      subject: 'objects/o',
      type: 'google.cloud.storage.object.v1.finalized',
      time: 't',
      data: { kind: 'storage#object' },
    };
    const r = await both('echoLegacy', post({ 'content-type': 'application/cloudevents+json' }, event));
    const { data, ...context } = event;
    expect(await r.gff.json()).toEqual({ data, context });
    expect(await r.ours.json()).toEqual({
      data,
      context: {
        eventId: '1',
        timestamp: 't',
        eventType: 'google.storage.object.finalize',
        resource: {
          name: 'projects/_/buckets/b/objects/o',
          service: 'storage.googleapis.com',
          type: 'storage#object',
        },
      },
    });
  });

  it.each([
    ['105445aa7843bc8bf206b12000100000/123;o=1', 'span 123'],
    ['105445aa7843bc8bf206b12000100000/9', 'span 9'],
    ['105445aa7843bc8bf206b12000100000/abc;o=1', 'none'],
    ['no-slash', 'none'],
    [undefined, 'none'],
  ])('req.spanId from X-Cloud-Trace-Context %s is %s on both', async (header, want) => {
    const init = { headers: header === undefined ? {} : { 'x-cloud-trace-context': header } };
    const [a, b] = await Promise.all([fetch(ours.spanOf, init), fetch(gff.spanOf.url, init)]);
    expect(await b.text()).toBe(want);
    expect(await a.text()).toBe(want);
  });

  it('writes LOG_EXECUTION_ID lines in Google’s shape: console and raw writes, JSON merged, span id from X-Cloud-Trace-Context', async () => {
    const labels = 'logging.googleapis.com/labels';
    const spanKey = 'logging.googleapis.com/spanId';
    const parse = (lines: string[], id: string) =>
      lines.filter((l) => l.includes(id)).map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const [id, trace, span] of [
      ['exec-123', '105445aa7843bc8bf206b12000100000/123;o=1', '123'],
      ['exec-456', undefined, undefined],
    ] as const) {
      const headers: Record<string, string> = { 'function-execution-id': id };
      if (trace) headers['x-cloud-trace-context'] = trace;
      const init = { method: 'POST', headers };
      expect((await fetch(ours.logs, init)).status).toBe(200);
      expect((await fetch(gff.logs.url, init)).status).toBe(200);
      const until = Date.now() + 10_000;
      while (parse(gff.logs.out, id).length < 5 && Date.now() < until)
        await new Promise((r) => setTimeout(r, 50));
      for (const lines of [parse(written, id), parse(gff.logs.out, id)]) {
        expect(lines).toHaveLength(5);
        // stdout and stderr are two pipes: take the lines by message, not by order.
        const byMessage = (m: string) => lines.find((l) => String(l.message).trim() === m);
        const [text, merged, err, raw, rawJson] = [
          'plain text',
          'json',
          'json on stderr',
          'raw write',
          'raw json',
        ].map(byMessage);
        expect(text![labels]).toEqual({ execution_id: id });
        expect(merged).toMatchObject({ severity: 'NOTICE', [labels]: { team: 'a', execution_id: id } });
        expect(err).toMatchObject({ severity: 'ERROR', [labels]: { execution_id: id } });
        expect(raw![labels]).toEqual({ execution_id: id });
        expect(rawJson).toMatchObject({
          severity: 'ERROR',
          [labels]: { execution_id: id },
          [spanKey]: 'own',
        });
        for (const line of [text, merged, err, raw]) expect(line![spanKey]).toBe(span);
      }
    }
  });
});
