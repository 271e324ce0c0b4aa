// An async function in startDev on the in-memory pub/sub: one decision path for its replicas (the
// lag scaler, fed the gateway's demand), scale from zero on a message and back after the cooldown,
// retries counted, and a component with no local engine refused while the others keep running.
import {
  askHostless,
  fuzzFindings,
  fuzzHttpServer,
  HOSTLESS_REFUSED,
  rawExchange,
  seededRng,
} from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlatformEvent } from '../src/index.js';
import { until } from './async-dev.js';
import { startTestDev, type TestDev } from './helpers.js';

let dev: TestDev;
const events: PlatformEvent[] = [];

beforeAll(async () => {
  dev = await startTestDev(['async-tick', 'async-kafka', 'echo', 'dapr-publisher'], {
    eip: false,
    collector: false,
    standby: 0,
  });
  events.push(...dev.platform.events.since(0));
  dev.platform.events.subscribe((e) => events.push(e));
});
afterAll(async () => {
  await dev?.close();
});

const publish = (body: unknown, token = dev.api.token) =>
  fetch(`${dev.async.url}/v1.0/publish/ticks/ticks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'dapr-api-token': token },
    body: JSON.stringify(body),
  });

const ticks = () => dev.platform.view('async-tick').triggers?.ticks;
const scales = () => events.filter((e) => e.type === 'scale' && e.function === 'async-tick');

describe('async functions in startDev', () => {
  it('a component type with no local engine is refused by name; the other functions are served', async () => {
    const { body } = await dev.call('/v1/functions');
    const problems = body.problems as { code: string; message: string }[];
    const kafka = problems.find((p) => p.message.includes('async-kafka'));
    expect(kafka?.code).toMatch(/^SPROUT_ERR_(TRIGGERS_COMPONENT_UNSUPPORTED|SPEC_)/);
    expect(kafka?.message).toMatch(/pubsub\.kafka/);
    expect(kafka?.message).toMatch(/pubsub\.jetstream/);
    expect(await (await fetch(`${dev.url}/echo/x`)).json()).toMatchObject({ path: '/x' });
    expect(ticks()).toMatchObject({ delivered: 0, inFlight: 0 });
  });

  it('the Dapr API asks for the platform token', async () => {
    const res = await publish({ n: 0 }, 'wrong');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ errorCode: 'ERR_UNAUTHORIZED' });
    expect(ticks()?.delivered).toBe(0);
  });

  it('a message at zero instances scales the function up and is delivered; idle, it goes back to zero', async () => {
    expect(dev.platform.runner('async-tick')!.status().desiredReplicas).toBe(0);
    expect((await publish({ n: 1 })).status).toBe(204);
    await until('the tick delivered', () => (ticks()?.delivered === 1 ? true : undefined));
    const up = scales().find((e) => e.from === 0 && e.to === 1);
    expect(up).toMatchObject({ source: 'triggers' });
    await until('scale to zero after the cooldown', () =>
      scales().find((e) => e.from === 1 && e.to === 0) ? true : undefined,
    );
    expect(scales().find((e) => e.from === 1 && e.to === 0)).toMatchObject({
      source: 'triggers',
      reason: expect.stringMatching(/cooldown/),
    });
  });

  it("the gateway's demand is one input of the lag scaler, not a second decision", async () => {
    const before = scales().length;
    dev.platform.upstream('async-tick').scaleTo(2, 'test demand');
    const up = await until('the lag scaler taking the demand', () =>
      scales()
        .slice(before)
        .find((e) => e.to === 2),
    );
    expect(up).toMatchObject({ source: 'triggers', reason: expect.stringMatching(/http asks 2/) });
    dev.platform.upstream('async-tick').scaleTo(0, 'test idle');
    const down = await until('back to zero after the cooldown', () =>
      scales()
        .slice(before)
        .find((e) => e.to === 0),
    );
    // KEDA's way down: the HPA's floor of one while the cooldown runs, then zero.
    expect(down).toMatchObject({ source: 'triggers', reason: expect.stringMatching(/cooldown/) });
    // Every scale of the function came from the one path.
    expect(scales().every((e) => e.source === 'triggers')).toBe(true);
  });

  it('a tick that throws is retried, counted, and does not hold the others', async () => {
    expect((await publish({ n: 2, fail: true })).status).toBe(204);
    for (let n = 3; n <= 5; n++) expect((await publish({ n })).status).toBe(204);
    const t = await until('the failing tick retried and the others delivered', () => {
      const v = ticks();
      return v && v.delivered === 4 && v.retried >= 1 ? v : undefined;
    });
    expect(t.failed).toBeGreaterThanOrEqual(1);
    const metrics = await (await fetch(`${dev.api.url}/metrics`)).text();
    expect(metrics).toMatch(/sprout_triggers_retried_total\{function="async-tick",trigger="ticks"\} [1-9]/);
    expect(metrics).toContain('sprout_triggers_delivered_total{function="async-tick",trigger="ticks"} 4');
    // The delivery duration histogram: every delivered tick counted once, buckets cumulative.
    expect(metrics).toContain(
      'sprout_triggers_delivery_duration_seconds_count{function="async-tick",trigger="ticks"} 4',
    );
    expect(metrics).toContain(
      'sprout_triggers_delivery_duration_seconds_bucket{function="async-tick",trigger="ticks",le="+Inf"} 4',
    );
    const buckets = [
      ...metrics.matchAll(
        /sprout_triggers_delivery_duration_seconds_bucket\{function="async-tick",trigger="ticks",le="[^"]+"\} (\d+)/g,
      ),
    ].map((m) => Number(m[1]));
    expect(buckets).toHaveLength(12);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    // The lag of a Dapr input with no KEDA trigger is on /metrics too, the value the REST view has:
    // the failing tick keeps going back to the topic, so the broker holds one. Both are the lag read
    // at the last poll, so they agree on a reading from before the tick too (0, where a warm instance
    // took the ticks within one polling interval): what is waited for is a reading that holds it.
    const lag = /sprout_triggers_lag\{function="async-tick",trigger="ticks"\} (\d+)/;
    await until('the lag gauge holding the failing tick, as the REST view reads it', async () => {
      const text = await (await fetch(`${dev.api.url}/metrics`)).text();
      const gauge = Number(text.match(lag)?.[1] ?? NaN);
      return gauge >= 1 && gauge === ticks()?.lag ? gauge : undefined;
    });
  });

  it('the official Dapr SDK in a function reaches the Dapr API through the environment sprout dev gives it', async () => {
    const before = ticks()!.delivered;
    const res = await fetch(`${dev.url}/dapr-publisher`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n: 7 }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ published: { n: 7 } });
    await until('the SDK-published tick delivered', () =>
      ticks()!.delivered === before + 1 ? true : undefined,
    );
  });

  it("sprout dev's Dapr API listener answers hostile requests with coded statuses and keeps delivering", async () => {
    // (An output binding that does not exist is a 500 ERR_INVOKE_OUTPUT_BINDING, as daprd answers:
    // not fuzzed here; the triggers package tests it.)
    const rng = seededRng();
    const seed = `FUZZ_SEED=${rng.seed}`;
    const r = await fuzzHttpServer(
      dev.async.port,
      {
        paths: [
          '/v1.0/publish/ticks/fuzz',
          '/v1.0-alpha1/publish/bulk/ticks/fuzz',
          '/v1.0/metadata',
          '/v1.0/healthz',
        ],
        good: Buffer.from('{"n":1}'),
        headers: [`dapr-api-token: ${dev.api.token}`],
        methods: ['POST', 'GET', 'PUT'],
      },
      { rng, ms: 1500, min: 60 },
    );
    // Dapr's own error body (JSON with errorCode and the Sprout code in its details) counts as coded.
    const f = fuzzFindings(r, /x-sprout-error-code: sprout_err_|content-type: application\/json/);
    expect(f.serverErrors, `${seed}: server errors`).toEqual([]);
    expect(f.uncoded, `${seed}: refusals without a code`).toEqual([]);
    expect(f.answeredShare, seed).toBeGreaterThan(0.5);
    const before = ticks()!.delivered;
    expect((await publish({ n: 8 })).status).toBe(204);
    await until('a tick after the fuzzing', () => (ticks()!.delivered === before + 1 ? true : undefined));
  }, 60_000);

  it('the Dapr API listener answers an HTTP/1.1 request without Host (a fuzz find) with a coded 400 and closes it', async () => {
    expect(await askHostless(dev.async.port, '/v1.0/publish/ticks/fuzz')).toEqual(HOSTLESS_REFUSED);
    // HTTP/1.0 needs no Host: the API's own answer, the guard's refusal of a Host not its own.
    const old = await rawExchange(dev.async.port, 'GET /v1.0/healthz HTTP/1.0\r\n\r\n');
    expect(old.status).toBe(403);
    expect(old.text).toContain('"reason":"SPROUT_ERR_HTTP_HOST_NOT_ALLOWED"');
  });

  it('a Dapr API port already taken is a coded error naming the flag', async () => {
    await expect(
      startTestDev(['echo'], { eip: false, collector: false, standby: 0, daprHttpPort: dev.async.port }),
    ).rejects.toMatchObject({
      code: 'SPROUT_ERR_PLATFORM_PORT_IN_USE',
      message: expect.stringContaining('--dapr-http-port'),
    });
  });

  it('--resources-path: the component and a declarative Subscription (routing rule) come from the folder', async () => {
    const res = await startTestDev(['async-res'], {
      eip: false,
      collector: false,
      standby: 0,
      resourcesPath: 'async-resources',
    });
    try {
      const send = (kind: string) =>
        fetch(`${res.async.url}/v1.0/publish/bus/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'dapr-api-token': res.api.token },
          body: JSON.stringify({ kind }),
        });
      expect((await send('normal')).status).toBe(204);
      expect((await send('urgent')).status).toBe(204);
      const t = await until('the urgent job delivered and the other dropped', () => {
        const v = res.platform.view('async-res').triggers?.bus;
        return v && v.delivered === 1 && v.dropped === 1 ? v : undefined;
      });
      expect(t).toMatchObject({ delivered: 1, dropped: 1, failed: 0 });
      const jobs = res.logs.filter((l) => l.msg === 'job').map((l) => l.kind);
      expect(jobs).toEqual(['urgent']);
    } finally {
      await res.close();
    }
  });

  it('with no pub/sub or binding anywhere, the Dapr API still answers (loading the engines at its first request)', async () => {
    const plain = await startTestDev(['echo'], { eip: false, collector: false, standby: 0 });
    try {
      expect((await fetch(`${plain.async.url}/v1.0/healthz`)).status).toBe(204);
      const res = await fetch(`${plain.async.url}/v1.0/publish/orders/new`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'dapr-api-token': plain.api.token },
        body: '{}',
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ errorCode: 'ERR_PUBSUB_NOT_CONFIGURED' });
    } finally {
      await plain.close();
    }
  });
});
