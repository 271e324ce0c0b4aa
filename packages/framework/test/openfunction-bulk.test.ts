// Dapr's bulk subscribe on the async runtime: `/dapr/subscribe` advertises it, a bulk POST calls the
// function once per entry and answers a status per entry, single CloudEvent POSTs still work, and
// malformed bulk envelopes (a table, then seeded fuzz: mutated envelopes and hostile raw requests)
// answer coded 400s, never a 5xx.
import { fuzzFindings, fuzzHttpServer, seededRng } from '@sprout/http/testing';
import type { RunningServer } from '@sprout/framework';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, start } from './helpers.js';

const rng = seededRng();
const seed = `FUZZ_SEED=${rng.seed}`;

interface Call {
  input: string | undefined;
  executionId: string;
  data: unknown;
}

const calls: Call[] = [];
let s: RunningServer;

beforeAll(async () => {
  s = await start({
    fn: async (ctx: { input?: string; executionId: string }, data: unknown) => {
      calls.push({ input: ctx.input, executionId: ctx.executionId, data });
      if ((data as { fail?: boolean } | null)?.fail) throw new Error('asked to fail');
    },
    target: 'bulk',
    context: {
      name: 'bulk',
      version: 'v1',
      runtime: 'Async',
      inputs: {
        orders: { uri: 'orders', componentName: 'bus', componentType: 'pubsub.redis' },
        cron: { componentName: 'tick', componentType: 'bindings.cron' },
      },
    },
  });
});
afterAll(() => s.close());

const ce = (id: string, data: unknown) => ({
  specversion: '1.0',
  id,
  source: 'test',
  type: 'com.dapr.event.sent',
  datacontenttype: 'application/json',
  data,
});
const envelope = (entries: unknown[]) => ({
  id: 'b-1',
  type: 'com.dapr.event.sent.bulk',
  topic: 'orders',
  pubsubname: 'bus',
  metadata: { pubsubName: 'bus' },
  entries,
});
const post = (path: string, body: unknown, headers: Record<string, string> = json) =>
  fetch(`${s.url}${path}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('bulk subscribe on the async runtime', () => {
  it('advertises bulkSubscribe for pub/sub inputs only', async () => {
    expect(await (await fetch(`${s.url}/dapr/subscribe`)).json()).toEqual([
      {
        pubsubname: 'bus',
        topic: 'orders',
        route: '/orders',
        bulkSubscribe: { enabled: true, maxMessagesCount: 100, maxAwaitDurationMs: 10 },
      },
    ]);
  });

  it('calls the function once per entry, as a single delivery would, and answers each entry', async () => {
    calls.length = 0;
    const r = await post(
      '/orders',
      envelope([
        { entryId: 'a', event: ce('1', { n: 1 }), contentType: 'application/cloudevents+json', metadata: {} },
        {
          entryId: 'b',
          event: Buffer.from('raw bytes').toString('base64'),
          contentType: 'application/octet-stream',
        },
        { entryId: 'c', event: ce('3', { fail: true }), contentType: 'application/cloudevents+json' },
        {
          entryId: 'd',
          event: { ...ce('4', undefined), data_base64: Buffer.from('{"n":4}').toString('base64') },
          contentType: 'application/cloudevents+json',
        },
        // Not a CloudEvent (no id): that entry alone is retried; the function is not called for it.
        { entryId: 'e', event: { specversion: '1.0', source: 'x', type: 'y' } },
      ]),
    );
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      statuses: [
        { entryId: 'a', status: 'SUCCESS' },
        { entryId: 'b', status: 'SUCCESS' },
        {
          entryId: 'c',
          status: 'RETRY',
          error: { code: 'SPROUT_ERR_FRAMEWORK_FUNCTION_FAILED', executionId: expect.any(String) },
        },
        { entryId: 'd', status: 'SUCCESS' },
        {
          entryId: 'e',
          status: 'RETRY',
          error: { code: 'SPROUT_ERR_FRAMEWORK_MALFORMED_CLOUDEVENT', executionId: expect.any(String) },
        },
      ],
    });
    expect(calls.map((c) => c.input)).toEqual(['orders', 'orders', 'orders', 'orders']);
    const byData = calls.map((c) => (Buffer.isBuffer(c.data) ? c.data.toString() : c.data));
    expect(byData).toEqual([{ n: 1 }, 'raw bytes', { fail: true }, '{"n":4}']);
    // A single delivery's data_base64 arrives as bytes too: the same as one POSTed alone.
    const single = await post(
      '/orders',
      { ...ce('5', undefined), data_base64: Buffer.from('{"n":4}').toString('base64') },
      {
        'content-type': 'application/cloudevents+json',
      },
    );
    expect(await single.json()).toEqual({ status: 'SUCCESS' });
    expect(calls[4]!.data).toEqual(calls[3]!.data);
    // Each entry's invocation has its own execution id.
    expect(new Set(calls.map((c) => c.executionId)).size).toBe(calls.length);
  });

  it('a synchronous function (returning or throwing) is answered per entry; over 100 entries all are answered', async () => {
    const seen: unknown[] = [];
    const sync = await start({
      fn: (_ctx: unknown, data: unknown) => {
        if ((data as { fail?: boolean } | null)?.fail) throw new Error('asked to fail');
        seen.push(data);
      },
      target: 'sync',
      context: {
        name: 'sync',
        version: 'v1',
        runtime: 'Async',
        inputs: { orders: { uri: 'orders', componentName: 'bus', componentType: 'pubsub.redis' } },
      },
    });
    try {
      const ask = async (entries: unknown[]) =>
        (await (
          await fetch(`${sync.url}/orders`, {
            method: 'POST',
            headers: json,
            body: JSON.stringify(envelope(entries)),
          })
        ).json()) as { statuses: { entryId: string; status: string }[] };
      const two = await ask([
        { entryId: 'a', event: ce('1', { n: 1 }) },
        { entryId: 'b', event: ce('2', { fail: true }) },
      ]);
      expect(two.statuses.map((x) => [x.entryId, x.status])).toEqual([
        ['a', 'SUCCESS'],
        ['b', 'RETRY'],
      ]);
      const many = await ask(
        Array.from({ length: 130 }, (_, i) => ({ entryId: `m${i}`, event: ce(`m${i}`, { i }) })),
      );
      expect(many.statuses.map((x) => x.entryId)).toEqual(Array.from({ length: 130 }, (_, i) => `m${i}`));
      expect(new Set(many.statuses.map((x) => x.status))).toEqual(new Set(['SUCCESS']));
      expect(seen).toHaveLength(131);
    } finally {
      await sync.close();
    }
  });

  it('an empty bulk is answered with no statuses; a binding input is never read as bulk', async () => {
    calls.length = 0;
    expect(await (await post('/orders', envelope([]))).json()).toEqual({ statuses: [] });
    expect(calls).toHaveLength(0);
    const b = await post('/tick', { entries: 'not bulk' });
    expect(b.status).toBe(200);
    expect(calls).toEqual([expect.objectContaining({ input: 'cron', data: { entries: 'not bulk' } })]);
  });

  it.each([
    ['entries not a list', { entries: { a: 1 } }, /"entries" must be a list/],
    ['an entry not an object', envelope([1]), /entries\[0\] must be an object/],
    ['an entry without entryId', envelope([{ event: ce('1', 1) }]), /entries\[0\]\.entryId/],
    ['an empty entryId', envelope([{ entryId: '', event: ce('1', 1) }]), /entryId must be a non-empty/],
    [
      'an entryId used twice',
      envelope([
        { entryId: 'x', event: ce('1', 1) },
        { entryId: 'x', event: ce('2', 2) },
      ]),
      /appears twice/,
    ],
    ['an entry without event', envelope([{ entryId: 'x' }]), /entries\[0\]\.event is missing/],
  ])('%s: 400 SPROUT_ERR_FRAMEWORK_MALFORMED_BULK, the function not called', async (_what, body, message) => {
    calls.length = 0;
    const r = await post('/orders', body);
    expect(r.status).toBe(400);
    expect(r.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_FRAMEWORK_MALFORMED_BULK');
    expect((await r.json()).error.message).toMatch(message);
    expect(calls).toHaveLength(0);
  });
});

describe('fuzzed bulk bodies', () => {
  /** A valid envelope with some of its parts broken at random. */
  function mutated(): unknown {
    const values = [null, 0, -1, 'x', '', true, [], {}, [1, 2], { entryId: 'z' }, ce('q', { fail: true })];
    const entries: unknown[] = Array.from({ length: rng.int(0, 6) }, (_, i) => ({
      entryId: `e${i}`,
      event: rng.next() < 0.5 ? ce(String(i), { i }) : Buffer.from(`b${i}`).toString('base64'),
      contentType: 'application/cloudevents+json',
      metadata: {},
    }));
    for (let k = rng.int(0, 3); k > 0 && entries.length; k--) {
      const i = rng.int(0, entries.length);
      const e = entries[i] as Record<string, unknown>;
      if (e === null || typeof e !== 'object' || Array.isArray(e)) continue;
      const field = rng.pick(['entryId', 'event', 'contentType', 'metadata', 'whole']);
      // A copy: an entry given a shared value and then mutated must not come to hold itself.
      if (field === 'whole') entries[i] = structuredClone(rng.pick(values));
      else if (rng.next() < 0.3) delete e[field];
      else e[field] = structuredClone(rng.pick(values));
    }
    const body: Record<string, unknown> = envelope(entries);
    if (rng.next() < 0.15) body.entries = structuredClone(rng.pick(values));
    return body;
  }

  it('a mutated envelope is answered 200 with one status per entry, or a coded 400; never a 5xx', async () => {
    const end = Date.now() + 1500;
    let n = 0;
    let bad = 0;
    while (n < 150 || Date.now() < end) {
      n++;
      const body = mutated() as { entries?: unknown };
      const r = await post('/orders', body);
      const answer = (await r.json()) as { statuses?: { entryId: string; status: string }[] };
      if (r.status === 400) {
        bad++;
        expect(r.headers.get('x-sprout-error-code'), seed).toBe('SPROUT_ERR_FRAMEWORK_MALFORMED_BULK');
        continue;
      }
      expect(r.status, `${seed}: ${JSON.stringify(body)}`).toBe(200);
      const ids = (body.entries as { entryId: string }[]).map((e) => e.entryId);
      expect(
        answer.statuses!.map((x) => x.entryId),
        seed,
      ).toEqual(ids);
      for (const x of answer.statuses!) expect(['SUCCESS', 'RETRY'], seed).toContain(x.status);
    }
    expect(bad, seed).toBeGreaterThan(0);
  });

  it('hostile raw requests at the bulk route: answered or closed, never a 5xx, and a good bulk is served afterwards', async () => {
    const good = Buffer.from(JSON.stringify(envelope([{ entryId: 'a', event: ce('1', { ok: 1 }) }])));
    const r = await fuzzHttpServer(
      Number(new URL(s.url).port),
      { paths: ['/orders', '/dapr/subscribe'], good, headers: ['content-type: application/json'] },
      { rng, ms: 1000, min: 60 },
    );
    const f = fuzzFindings(r);
    expect(f.serverErrors, `${seed}: server errors`).toEqual([]);
    expect(f.uncoded, `${seed}: refusals without a code`).toEqual([]);
    const after = await post('/orders', JSON.parse(good.toString()));
    expect(await after.json()).toEqual({ statuses: [{ entryId: 'a', status: 'SUCCESS' }] });
  });
});
