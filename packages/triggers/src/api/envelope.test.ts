import { describe, expect, it } from 'vitest';
import { childTraceparent, entryBytes, envelopeOf, isRawPayload } from './envelope.js';

const now = new Date('2026-05-01T12:00:00.250Z');
const ctx = { appId: 'shop', pubsub: 'bus', topic: 'orders', metadata: {}, now };
const enc = (s: string) => Buffer.from(s, 'utf8');

describe('envelopeOf (daprd publish)', () => {
  // [content type, body, field holding the payload, payload]
  const ROWS: [string, string, 'data' | 'data_base64', unknown][] = [
    ['application/json', '{"a":1}', 'data', { a: 1 }],
    ['application/json; charset=utf-8', '[1,2]', 'data', [1, 2]],
    ['application/json', 'not json', 'data', 'not json'],
    ['text/plain', '{"a":1}', 'data', '{"a":1}'],
    ['', 'hello', 'data', 'hello'],
    ['application/octet-stream', '\u0001\u0002', 'data_base64', 'AQI='],
    ['application/xml', '<a/>', 'data', '<a/>'],
    ['application/vnd.custom+json', '{"a":1}', 'data', '{"a":1}'],
  ];
  it.each(ROWS)('%j body %j → %s', (ct, body, field, payload) => {
    const ce = envelopeOf(enc(body), ct, ctx);
    expect(ce[field]).toEqual(payload);
    expect(ce).toMatchObject({
      specversion: '1.0',
      datacontenttype: ct || 'text/plain',
      source: 'shop',
      type: 'com.dapr.event.sent',
      topic: 'orders',
      pubsubname: 'bus',
      time: '2026-05-01T12:00:00Z',
      tracestate: '',
    });
    expect(ce.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(ce.traceparent).toBe(ce.traceid);
    expect(ce.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('continues the caller trace with a new span', () => {
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const ce = envelopeOf(enc('{}'), 'application/json', { ...ctx, traceparent: parent, tracestate: 'k=v' });
    expect(String(ce.traceparent).slice(0, 36)).toBe(parent.slice(0, 36));
    expect(ce.traceparent).not.toBe(parent);
    expect(ce.tracestate).toBe('k=v');
    expect(childTraceparent('garbage')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('takes metadata cloudevent.* overrides (keys in any case) and ttlInSeconds', () => {
    const ce = envelopeOf(enc('x'), 'text/plain', {
      ...ctx,
      metadata: {
        'cloudevent.id': 'id-1',
        'CloudEvent.Source': 'src',
        'cloudevent.type': 't',
        'cloudevent.subject': 's',
        'cloudevent.traceparent': '00-11111111111111111111111111111111-2222222222222222-01',
        ttlInSeconds: '60',
      },
    });
    expect(ce).toMatchObject({
      id: 'id-1',
      source: 'src',
      type: 't',
      subject: 's',
      traceid: '00-11111111111111111111111111111111-2222222222222222-01',
      traceparent: '00-11111111111111111111111111111111-2222222222222222-01',
      expiration: '2026-05-01T12:01:00Z',
    });
  });

  it('passes application/cloudevents+json through, setting topic and pubsubname and filling defaults', () => {
    const ce = envelopeOf(
      enc(
        '{"id":"mine","specversion":"1.0","source":"me","type":"x.y","data":{"v":1},"topic":"other","traceid":"keep"}',
      ),
      'application/cloudevents+json',
      ctx,
    );
    expect(ce).toEqual({
      id: 'mine',
      specversion: '1.0',
      source: 'me',
      type: 'x.y',
      data: { v: 1 },
      topic: 'orders',
      pubsubname: 'bus',
      traceid: 'keep',
      tracestate: '',
      time: '2026-05-01T12:00:00Z',
    });
    const bare = envelopeOf(enc('{"data":1}'), 'application/cloudevents+json', ctx);
    expect(bare).toMatchObject({ source: 'Dapr', type: 'com.dapr.event.sent', specversion: '1.0', data: 1 });
  });

  it.each(['not json', '[1]', 'null', '"s"'])('refuses the CloudEvent body %j', (body) => {
    expect(() => envelopeOf(enc(body), 'application/cloudevents+json', ctx)).toThrow(
      expect.objectContaining({ code: 'SPROUT_ERR_TRIGGERS_REQUEST_INVALID' }),
    );
  });
});

describe('isRawPayload and entryBytes', () => {
  it.each([
    [{}, false],
    [{ rawPayload: '' }, false],
    [{ rawPayload: 'true' }, true],
    [{ rawPayload: '1' }, true],
    [{ rawPayload: 'F' }, false],
  ])('%j → %s', (m, raw) => expect(isRawPayload(m)).toBe(raw));
  it('refuses a rawPayload that is not a boolean', () => {
    expect(() => isRawPayload({ rawPayload: 'yes' })).toThrow(/valid boolean/);
  });

  it.each([
    [{ a: 1 }, 'application/json', '{"a":1}'],
    ['s', 'application/cloudevents+json', '"s"'],
    ['hi', 'text/plain', 'hi'],
    ['AQI=', 'application/octet-stream', '\u0001\u0002'],
  ])('%j as %s', (event, ct, bytes) => {
    expect(Buffer.from(entryBytes(event, ct)).toString('utf8')).toBe(bytes);
  });
  it.each([
    [{ a: 1 }, 'text/plain'],
    [1, 'application/octet-stream'],
    ['not base64!', 'application/octet-stream'],
    [{ a: 1 }, ''],
    [{ a: 1 }, 'application/x-protobuf'],
  ])('refuses %j as %j', (event, ct) => {
    expect(() => entryBytes(event, ct)).toThrow(
      expect.objectContaining({ code: 'SPROUT_ERR_TRIGGERS_REQUEST_INVALID' }),
    );
  });
});

describe('envelopeOf and entryBytes fuzzed', () => {
  it('random bytes under every content type give an envelope or a coded refusal, never a crash', () => {
    let x = Number(process.env.SPROUT_FUZZ_SEED ?? Date.now() % 100000) || 1;
    const seed = x;
    const rand = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
    const types = [
      'application/json',
      'application/cloudevents+json',
      'text/plain',
      'application/octet-stream',
      '',
      'x/y',
    ];
    const valid = Buffer.from(
      '{"id":"e1","specversion":"1.0","source":"s","type":"t","data":{"a":[1,2,{"b":null}]}}',
    );
    const deadline = Date.now() + 1000;
    let made = 0;
    let refused = 0;
    while (Date.now() < deadline) {
      const ct = types[Math.floor(rand() * types.length)]!;
      const body =
        rand() < 0.5
          ? Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)))
          : valid.subarray(0, Math.floor(rand() * (valid.length + 1)));
      try {
        const ce = envelopeOf(body, ct, ctx);
        expect(ce.topic, `seed ${seed}`).toBe('orders');
        expect(JSON.parse(JSON.stringify(ce)).pubsubname, `seed ${seed}`).toBe('bus');
        made++;
      } catch (err) {
        expect((err as { code?: string }).code, `seed ${seed}`).toBe('SPROUT_ERR_TRIGGERS_REQUEST_INVALID');
        expect(ct, `seed ${seed}`).toBe('application/cloudevents+json');
        refused++;
      }
      try {
        entryBytes(JSON.parse(JSON.stringify(body.toString('latin1'))), ct);
      } catch (err) {
        expect((err as { code?: string }).code, `seed ${seed}`).toBe('SPROUT_ERR_TRIGGERS_REQUEST_INVALID');
      }
    }
    expect(made, `seed ${seed}`).toBeGreaterThan(0);
    expect(refused, `seed ${seed}`).toBeGreaterThan(0);
  });
});
