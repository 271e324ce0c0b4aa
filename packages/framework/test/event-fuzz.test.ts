import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { RunningServer } from '@sprout/framework';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzBytes, prng } from '../src/fuzz.js';
import { fixture, start } from './helpers.js';

// Fuzzes the event readers through a running server: the legacy-event <-> CloudEvent conversion
// and the binary/structured CloudEvent readers get random JSON shapes, random bytes, and the
// conformance events mutated or split across writes. Every answer must be a success or a coded
// 4xx, never a 5xx or a dropped connection, and the server keeps serving. The seed is printed on
// failure; set FUZZ_SEED to replay one.

type Obj = Record<string, unknown>;
const seed = Number(process.env.FUZZ_SEED) || Date.now() & 0xffff;
const rnd = prng(seed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

const data = fixture('conformance');
const inputs = readdirSync(data)
  .filter((f) => f.endsWith('-input.json'))
  .map((f) => ({
    kind: f.includes('-cloudevent-') ? 'cloudevent' : 'legacy',
    body: JSON.parse(readFileSync(join(data, f), 'utf8')) as Obj,
  }));

// Keys the readers and converters look at, and a few that are dangerous on plain objects.
const KEYS = [
  'specversion',
  'id',
  'source',
  'type',
  'subject',
  'time',
  'data',
  'data_base64',
  'datacontenttype',
  'traceparent',
  'context',
  'eventId',
  'eventType',
  'timestamp',
  'resource',
  'service',
  'name',
  'kind',
  'message',
  'messageId',
  'publishTime',
  'attributes',
  'subscription',
  'domain',
  'uid',
  'metadata',
  'createdAt',
  'toString',
  'valueOf',
  '__proto__',
  'constructor',
  'x',
] as const;
const STRINGS = [
  '',
  '1.0',
  '0.3',
  'google.pubsub.topic.publish',
  'google.cloud.storage.object.v1.finalized',
  'providers/firebase.auth/eventTypes/user.create',
  'providers/google.firebase.database/eventTypes/ref.write',
  'google.firebase.remoteconfig.update',
  'google.cloud.firestore.document.v1.written',
  '//pubsub.googleapis.com/projects/p/topics/t',
  '//storage.googleapis.com/projects/_/buckets/b',
  'projects/_/buckets/b/objects/o',
  'projects/_/instances/i/refs/a',
  'firebaseio.com',
  'x.firebasedatabase.app',
  'aGk=',
  '%E0%A4%A',
  '\u0000\ud800',
  'projects/p/databases/(default)/documents/d',
] as const;

function randomValue(depth: number): unknown {
  const r = rnd();
  if (depth > 3 || r < 0.3) return pick<unknown>([null, true, 0, -1.5, 1e308, ...STRINGS]);
  if (r < 0.45) return fuzzBytes(rnd).toString('latin1').slice(0, 30);
  if (r < 0.6) return Array.from({ length: Math.floor(rnd() * 3) }, () => randomValue(depth + 1));
  return randomObject(depth + 1);
}

function randomObject(depth: number): Obj {
  const o: Obj = {};
  for (let i = Math.floor(rnd() * 6); i > 0; i--) o[pick(KEYS)] = randomValue(depth);
  return o;
}

/** A conformance event with one to three fields replaced, removed or retyped, at any depth. */
function mutate(v: unknown, depth = 0): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v) || depth > 3) return randomValue(depth);
  const o: Obj = { ...(v as Obj) };
  const keys = Object.keys(o);
  for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) {
    const k = rnd() < 0.8 && keys.length ? pick(keys) : pick(KEYS);
    const r = rnd();
    if (r < 0.3) delete o[k];
    else if (r < 0.6) o[k] = mutate(o[k], depth + 1);
    else o[k] = randomValue(depth);
  }
  return o;
}

const CONTENT_TYPES = [
  'application/json',
  'application/cloudevents+json',
  'application/cloudevents-batch+json',
  'text/plain',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  '',
];

/** A header value percent-encoded as CloudEvents binary mode does; a lone surrogate becomes 'x'. */
function headerValue(v: string): string {
  try {
    return encodeURIComponent(v) || 'x';
  } catch {
    return 'x';
  }
}

function randomHeaders(): Record<string, string> {
  const h: Record<string, string> = {};
  const ct = pick(CONTENT_TYPES);
  if (ct) h['content-type'] = ct;
  for (const attr of ['specversion', 'id', 'source', 'type', 'subject', 'time', 'traceparent']) {
    if (rnd() < 0.35) h[`ce-${attr}`] = headerValue(pick([...STRINGS, 'x']));
  }
  if (rnd() < 0.2) h.traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  return h;
}

/** Sends a body in the given pieces (each its own write) and resolves with status, code and body. */
function send(
  url: string,
  headers: Record<string, string>,
  pieces: Buffer[],
): Promise<{ status: number; code: unknown; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, code: res.headers['x-sprout-error-code'], body }),
      );
    });
    req.on('error', reject);
    void (async () => {
      for (const p of pieces) {
        req.write(p);
        await new Promise((r) => setImmediate(r));
      }
      req.end();
    })();
  });
}

/** Cuts a buffer at one to four random points. */
function split(b: Buffer): Buffer[] {
  const cuts = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () =>
    Math.floor(rnd() * (b.length + 1)),
  ).sort((x, y) => x - y);
  const out: Buffer[] = [];
  let at = 0;
  for (const c of [...cuts, b.length]) {
    out.push(b.subarray(at, c));
    at = c;
  }
  return out;
}

let s: RunningServer;
const urls = { cloudevent: '', legacy: '' };
beforeAll(async () => {
  const source = fixture('event-echo');
  s = await start(
    [
      { source, target: 'echoCloudEvent', signatureType: 'cloudevent', path: '/ce' },
      { source, target: 'echoLegacy', signatureType: 'event', path: '/legacy' },
    ],
    { bodyLimit: 64 * 1024 },
  );
  urls.cloudevent = `${s.url}/ce`;
  urls.legacy = `${s.url}/legacy`;
});
afterAll(() => s.close());

/** A deliberate answer: 200 or a 4xx with a framework error code. */
function expectDeliberate(r: { status: number; code: unknown; body: string }, what: string): void {
  const where = `seed ${seed}: ${what} → ${r.status} ${r.body.slice(0, 300)}`;
  if (r.status === 200) return;
  expect(r.status, where).toBeGreaterThanOrEqual(400);
  expect(r.status, where).toBeLessThan(500);
  expect(r.code, where).toMatch(
    /^SPROUT_ERR_FRAMEWORK_(MALFORMED_CLOUDEVENT|MALFORMED_BODY|BODY_TOO_LARGE)$/,
  );
}

async function stillServes(): Promise<void> {
  const event = inputs.find((i) => i.kind === 'legacy')!.body;
  const r = await send(urls.cloudevent, { 'content-type': 'application/json' }, [
    Buffer.from(JSON.stringify(event)),
  ]);
  expect(r.status, `seed ${seed}`).toBe(200);
}

describe('event readers under fuzzed input (seeded, time-boxed)', () => {
  it('random JSON shapes, as plain JSON, structured mode or with random ce- headers, to both signatures', async () => {
    const until = Date.now() + 2500;
    for (let n = 0; Date.now() < until || n < 150; n++) {
      const body = rnd() < 0.85 ? randomObject(0) : randomValue(0);
      const headers = rnd() < 0.5 ? { 'content-type': pick(CONTENT_TYPES.slice(0, 2)) } : randomHeaders();
      const url = pick([urls.cloudevent, urls.legacy]);
      const text = JSON.stringify(body) ?? '';
      const r = await send(url, headers, [Buffer.from(text)]);
      expectDeliberate(r, `case ${n} ${url} ${JSON.stringify(headers)} ${text.slice(0, 300)}`);
    }
    await stillServes();
  });

  it('conformance events mutated field by field, and as bytes, to both signatures', async () => {
    const until = Date.now() + 2500;
    for (let n = 0; Date.now() < until || n < 150; n++) {
      const input = pick(inputs);
      const asBytes = rnd() < 0.3;
      const text = asBytes
        ? fuzzBytes(rnd, Buffer.from(JSON.stringify(input.body)))
        : Buffer.from(JSON.stringify(mutate(input.body)) ?? '');
      const headers =
        input.kind === 'cloudevent' && rnd() < 0.7
          ? { 'content-type': 'application/cloudevents+json' }
          : { 'content-type': 'application/json' };
      const url = pick([urls.cloudevent, urls.legacy]);
      const r = await send(url, headers, [text]);
      expectDeliberate(r, `case ${n} ${url} ${text.toString('latin1').slice(0, 300)}`);
    }
    await stillServes();
  });

  it('random bytes with random content types and ce- headers', async () => {
    const until = Date.now() + 1500;
    for (let n = 0; Date.now() < until || n < 100; n++) {
      const headers = randomHeaders();
      const url = pick([urls.cloudevent, urls.legacy]);
      const r = await send(url, headers, [fuzzBytes(rnd)]);
      expectDeliberate(r, `case ${n} ${url} ${JSON.stringify(headers)}`);
    }
    await stillServes();
  });

  it('every conformance event split at random points is read as if sent whole', async () => {
    for (const input of inputs) {
      const body = Buffer.from(JSON.stringify(input.body));
      const headers = {
        'content-type': input.kind === 'cloudevent' ? 'application/cloudevents+json' : 'application/json',
      };
      for (const url of [urls.cloudevent, urls.legacy]) {
        const whole = await send(url, headers, [body]);
        expect(whole.status, `seed ${seed}: ${whole.body}`).toBe(200);
        for (let i = 0; i < 3; i++) {
          const pieces = split(body);
          const r = await send(url, headers, pieces);
          expect(r.status, `seed ${seed}: cut at ${pieces.map((p) => p.length).join('+')}`).toBe(200);
          expect(r.body, `seed ${seed}`).toBe(whole.body);
        }
      }
    }
  });
});
