import { Agent, createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen, seededRng } from '@sprout/http/testing';
import type { Delivery } from '../broker.js';
import { isTriggersError } from '../errors.js';
import { deliverToApp } from './callback.js';
import { bindingRequest, bulkEntryParts, pubsubRequest } from './envelope.js';

const delivery = (data: Uint8Array | string, metadata: Record<string, string> = {}): Delivery => ({
  id: 'm-1',
  topic: 'orders',
  data: typeof data === 'string' ? Buffer.from(data) : data,
  metadata,
  attempt: 1,
  ack: async () => {},
  nack: async () => {},
});
const bodyOf = (b: Uint8Array) => JSON.parse(Buffer.from(b).toString('utf8'));
const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('pubsubRequest: the CloudEvent daprd hands a subscriber', () => {
  it('a Dapr CloudEvent: kept, topic and pubsubname set where it was read, trace continued', () => {
    const ce = {
      id: 'e1',
      source: 'app',
      type: 't',
      specversion: '1.0',
      data: { a: 1 },
      topic: 'x',
      traceparent: TP,
    };
    const r = pubsubRequest(delivery(JSON.stringify(ce)), 'bus', false);
    expect(bodyOf(r.body)).toEqual({
      ...ce,
      topic: 'orders',
      pubsubname: 'bus',
      traceid: TP,
      tracestate: '',
    });
    expect(r.headers).toEqual({ 'content-type': 'application/cloudevents+json', traceparent: TP });
    expect([r.id, r.expired]).toEqual(['e1', false]);
  });

  it('fields a publisher left out are filled; traceid alone is taken as the trace; tracestate kept', () => {
    const r = pubsubRequest(delivery(JSON.stringify({ traceid: TP, tracestate: 'k=v' })), 'bus', false);
    expect(bodyOf(r.body)).toEqual({
      source: 'Dapr',
      type: 'com.dapr.event.sent',
      specversion: '1.0',
      topic: 'orders',
      pubsubname: 'bus',
      traceid: TP,
      traceparent: TP,
      tracestate: 'k=v',
    });
    expect(r.headers).toEqual({
      'content-type': 'application/cloudevents+json',
      traceparent: TP,
      tracestate: 'k=v',
    });
    expect(r.id).toBe('m-1');
  });

  it('a traceparent that is not W3C is replaced by a new trace', () => {
    const r = pubsubRequest(delivery('{"traceparent":"nope"}'), 'bus', false);
    expect(bodyOf(r.body).traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('rawPayload: a new event around the bytes, data_base64', () => {
    const bytes = Buffer.from([0xff, 0x00, 0x7b]);
    const ce = bodyOf(pubsubRequest(delivery(bytes), 'bus', true).body);
    expect(ce).toMatchObject({
      specversion: '1.0',
      datacontenttype: 'application/octet-stream',
      source: 'Dapr',
      type: 'com.dapr.event.sent',
      topic: 'orders',
      pubsubname: 'bus',
      data_base64: bytes.toString('base64'),
    });
    expect(ce.id).not.toBe('m-1');
  });

  it('expiration in the past is expired; in the future or unparsable is not', () => {
    const at = Date.parse('2030-01-01T00:00:00Z');
    const exp = (e: string) =>
      pubsubRequest(delivery(JSON.stringify({ expiration: e })), 'b', false, at).expired;
    expect([exp('2029-12-31T23:59:59Z'), exp('2030-01-01T00:00:01Z'), exp('tomorrow')]).toEqual([
      true,
      false,
      false,
    ]);
  });

  it.each(['not json', '[1]', '"text"', 'null', '42', ''])(
    '%j is SPROUT_ERR_TRIGGERS_PAYLOAD_INVALID',
    (text) => {
      let err: unknown;
      try {
        pubsubRequest(delivery(text), 'bus', false);
      } catch (e) {
        err = e;
      }
      expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_PAYLOAD_INVALID')).toBe(true);
      expect((err as Error).message).toContain('rawPayload');
    },
  );

  it("the JSON sent is the publisher's text with daprd's members appended, or written again when one was there with another value; never a key twice", () => {
    const keysOf = (json: string) => [...json.matchAll(/"([a-z_]+)":/g)].map((m) => m[1]);
    const cases: [string, boolean][] = [
      ['{}', true],
      [' {"id":"a","data":{"topic":"inner"}}\n ', true],
      ['{"id":"a","topic":"orders","pubsubname":"bus","source":"s","type":"t","specversion":"1.0"}', true],
      [`{"id":"a","traceparent":"${TP}","traceid":"${TP}","tracestate":"k=v"}`, true],
      ['{"id":"a","topic":"other"}', false],
      ['{"id":"a","source":null}', false],
      [`{"id":"a","traceid":"nope","traceparent":"${TP}"}`, false],
      ['{"id":"a","data":"}"}', true],
    ];
    for (const [text, spliced] of cases) {
      const r = pubsubRequest(delivery(text), 'bus', false);
      expect(JSON.parse(r.json), text).toEqual(r.event);
      expect(r.json.startsWith(text.trimEnd().slice(0, -1)), text).toBe(spliced);
      if (!text.includes('inner')) {
        const keys = keysOf(r.json);
        expect(new Set(keys).size, text).toBe(keys.length);
      }
    }
  });

  it('the event read first (a routing rule) and written out after carries the same members', () => {
    for (const text of [
      '{}',
      '{"id":"a","source":"s","type":"t","specversion":"1.0"}',
      '{"id":"a","topic":"other"}',
    ]) {
      const d = delivery(text);
      const r = pubsubRequest(d, 'bus', false);
      const event = { ...r.event };
      expect(event, text).toMatchObject({ topic: 'orders', pubsubname: 'bus' });
      expect(JSON.parse(r.json), text).toEqual(event);
      const parts = bulkEntryParts(d, r, false, '1');
      const entry = Buffer.concat([
        Buffer.from(parts.head),
        parts.bytes?.subarray(0, parts.end) ?? Buffer.alloc(0),
        Buffer.from(parts.tail),
      ]);
      expect(JSON.parse(entry.toString('utf8')).event, text).toEqual(event);
    }
  });

  it("a bulk entry carries the publisher's bytes in place when spliced, else the event's JSON: either way the same event", () => {
    const entryOf = (parts: ReturnType<typeof bulkEntryParts>) =>
      JSON.parse(
        Buffer.concat([
          Buffer.from(parts.head),
          parts.bytes?.subarray(0, parts.end) ?? Buffer.alloc(0),
          Buffer.from(parts.tail),
        ]).toString('utf8'),
      );
    const cases: [Uint8Array, boolean][] = [
      [Buffer.from('{}'), true],
      [Buffer.from(' {"id":"a","data":{"s":"é}"}}\n '), true],
      [Buffer.from(`{"id":"a","traceparent":"${TP}","traceid":"${TP}","tracestate":"k=v"}`), true],
      [Buffer.from('{"id":"a","topic":"other"}'), false],
      // not UTF-8: the event goes as the text it was read as (U+FFFD in place), not the raw bytes
      [
        Buffer.concat([Buffer.from('{"id":"a","data":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
        false,
      ],
    ];
    for (const [bytes, spliced] of cases) {
      const d = delivery(bytes, { k: 'v' });
      const r = pubsubRequest(d, 'bus', false);
      const parts = bulkEntryParts(d, r, false, '7');
      expect(parts.bytes !== undefined, bytes.toString()).toBe(spliced);
      expect(entryOf(parts)).toEqual({
        entryId: '7',
        event: JSON.parse(r.json),
        contentType: 'application/cloudevents+json',
        metadata: { k: 'v' },
      });
      expect(JSON.parse(r.json)).toEqual(r.event);
      const raw = entryOf(bulkEntryParts(d, r, true, '8'));
      expect(Buffer.from(raw.event as string, 'base64').equals(Buffer.from(bytes))).toBe(true);
    }
  });

  it('fuzz: random bytes and valid events cut anywhere give an event with topic and pubsubname, or the coded refusal', () => {
    const rng = seededRng();
    const valid = JSON.stringify({
      id: 'x',
      specversion: '1.0',
      data: { list: [1, 2, 3], s: 'é' },
      traceparent: TP,
    });
    const until = Date.now() + 300;
    const counts = { ok: 0, refused: 0 };
    for (let i = 0; i < 2 || Date.now() < until; i++) {
      const input =
        i % 2
          ? rng.bytes(rng.int(0, 64))
          : Buffer.from(valid.slice(0, i === 0 ? valid.length : rng.int(0, valid.length + 1)), 'utf8');
      try {
        const r = pubsubRequest(delivery(input), 'bus', false);
        const ce = bodyOf(r.body);
        expect(ce, `seed ${rng.seed}`).toEqual(r.event);
        expect([ce.topic, ce.pubsubname, ce.specversion !== undefined], `seed ${rng.seed}`).toEqual([
          'orders',
          'bus',
          true,
        ]);
        counts.ok++;
      } catch (err) {
        if (!isTriggersError(err, 'SPROUT_ERR_TRIGGERS_PAYLOAD_INVALID'))
          throw new Error(`seed ${rng.seed}: ${String(err)}`);
        counts.refused++;
      }
      const raw = bodyOf(pubsubRequest(delivery(input), 'bus', true).body);
      expect(Buffer.from(raw.data_base64, 'base64').equals(Buffer.from(input)), `seed ${rng.seed}`).toBe(
        true,
      );
    }
    expect(counts.ok).toBeGreaterThan(0);
    expect(counts.refused).toBeGreaterThan(0);
  });
});

describe('bindingRequest', () => {
  it('bytes as they are; metadata as headers, names that are not tokens or values with CR/LF skipped', () => {
    const r = bindingRequest(
      delivery('tick', { 'X-Cron': '1', 'bad name': 'x', evil: 'a\r\nb', 'content-type': 'text/plain' }),
    );
    expect(Buffer.from(r.body).toString()).toBe('tick');
    expect(r.headers).toEqual({ 'x-cron': '1', 'content-type': 'text/plain' });
    expect(bindingRequest(delivery('{}')).headers).toEqual({ 'content-type': 'application/json' });
  });
});

describe("deliverToApp: the app's answer, fuzzed", () => {
  let answer: { status: number; body: Buffer } = { status: 200, body: Buffer.alloc(0) };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(answer.status).end(answer.body));
  });
  let url = '';
  beforeAll(async () => {
    url = `http://127.0.0.1:${await listen(server)}/in`;
  });
  afterAll(() => closeServer(server));
  const req = pubsubRequest(delivery('{}'), 'bus', false);

  it('every status and body (a table, then random bytes) maps to the outcome daprd gives it', async () => {
    const rng = seededRng();
    const statuses = [200, 201, 204, 300, 404, 429, 500];
    const bodies = [
      '',
      '{"status":"SUCCESS"}',
      '{"status":"RETRY"}',
      '{"status":"DROP"}',
      '{"status":"drop"}',
      '{"status":7}',
      '{"status":""}',
      '{}',
      'null',
      '{"status":"SUCC',
      ...Array.from({ length: 6 }, () => rng.bytes(rng.int(0, 40)).toString('latin1')),
    ];
    for (const status of statuses)
      for (const text of bodies) {
        const sent = status === 204 ? '' : text;
        answer = { status, body: Buffer.from(sent, 'latin1') };
        let want: string;
        if (status === 404) want = 'drop';
        else if (status < 200 || status > 299) want = 'retry';
        else {
          let s: unknown;
          try {
            s = (JSON.parse(sent) as { status?: unknown } | null)?.status;
          } catch {
            s = undefined;
          }
          const u = typeof s === 'string' ? s.toUpperCase() : s;
          want =
            u === undefined || u === null || u === '' || u === 'SUCCESS'
              ? 'success'
              : u === 'DROP'
                ? 'drop'
                : 'retry';
        }
        const got = await deliverToApp(url, req, 5000, 'pubsub');
        expect(got.kind, `seed ${rng.seed}: ${status} ${JSON.stringify(sent)}`).toBe(want);
        const binding = await deliverToApp(url, req, 5000, 'binding');
        expect(binding.kind).toBe(status >= 200 && status <= 299 ? 'success' : 'retry');
      }
  });

  it('with an agent, deliveries reuse one kept-alive connection, and a huge answer is read past, not kept', async () => {
    let connections = 0;
    server.on('connection', () => connections++);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      answer = { status: 200, body: Buffer.alloc(1 << 20, 0x20) }; // 1 MiB of spaces: not JSON
      const before = connections;
      for (let i = 0; i < 5; i++)
        expect((await deliverToApp(url, req, 5000, 'pubsub', undefined, agent)).kind).toBe('success');
      answer = { status: 200, body: Buffer.from('{"status":"RETRY"}') };
      expect((await deliverToApp(url, req, 5000, 'pubsub', undefined, agent)).kind).toBe('retry');
      expect(connections - before).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('an aborted signal or an answer that never comes is a retry saying so', async () => {
    const stopped = new AbortController();
    stopped.abort();
    const aborted = await deliverToApp(url, req, 5000, 'pubsub', stopped.signal);
    expect(aborted.kind === 'retry' && aborted.reason).toContain('stopping');
    const silent = createServer(() => {}); // takes the request, never answers
    const port = await listen(silent);
    try {
      const late = await deliverToApp(`http://127.0.0.1:${port}/in`, req, 100, 'pubsub');
      expect(late.kind === 'retry' && late.reason).toContain('no answer within 100 ms');
    } finally {
      silent.closeAllConnections();
      await closeServer(silent);
    }
  });

  it('a refused connection is a retry naming the URL', async () => {
    const dead = `http://127.0.0.1:1/in`;
    const got = await deliverToApp(dead, req, 2000, 'pubsub');
    expect(got.kind).toBe('retry');
    expect(got.kind === 'retry' && got.reason).toContain(dead);
  });
});
