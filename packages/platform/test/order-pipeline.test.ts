// examples/order-pipeline run by a real `sprout dev` against real NATS JetStream: checkout (HTTP)
// publishes with ctx.send through the Dapr API, fulfil (async, scaled from zero on the first order)
// consumes and writes ctx.state, report (cron) counts what was fulfilled. Every order is counted.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkout,
  cleanUp,
  pipelineCopy,
  pipelineState,
  startSproutDev,
  stop,
  until,
  type RunningDev,
} from './async-dev.js';
import { schemaErrors } from './helpers.js';

const { dir, topic, stream } = pipelineCopy('pipeline');
const dataDir = join(dir, 'data');
let dev: RunningDev;

beforeAll(async () => {
  dev = await startSproutDev(dir, dataDir);
});
afterAll(async () => {
  if (dev) await stop(dev.child);
  await cleanUp(dir, stream);
});

interface TriggerView {
  delivered: number;
  failed: number;
  retried: number;
  deadLettered: number;
  inFlight: number;
  lag?: number;
}

const fulfil = async () => (await dev.call('/v1/functions/fulfil')).body;

/** The first `type` event of the stream (replayed from the start) that `pred` accepts. */
async function event(
  type: string,
  pred: (e: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), 20_000);
  try {
    const res = await fetch(`${dev.api}/v1/events`, {
      headers: { authorization: `Bearer ${dev.token}`, 'last-event-id': '0' },
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    let buf = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`the event stream ended before a matching ${type} event`);
      buf += Buffer.from(value).toString();
      const blocks = buf.split('\n\n');
      buf = blocks.pop()!;
      for (const b of blocks) {
        const data = /^data: (.*)$/m.exec(b)?.[1];
        if (!data || !b.includes(`event: ${type}\n`)) continue;
        const e = JSON.parse(data) as Record<string, unknown>;
        if (pred(e)) return e;
      }
    }
  } finally {
    clearTimeout(t);
    ac.abort();
  }
}

describe('examples/order-pipeline in sprout dev', () => {
  it('fulfil waits at zero instances with its trigger subscribed', async () => {
    const view = await fulfil();
    expect(view).toMatchObject({ desiredReplicas: 0, readyReplicas: 0 });
    expect((view.triggers as Record<string, TriggerView>).orders).toMatchObject({
      delivered: 0,
      inFlight: 0,
    });
  });

  it('orders posted to checkout are all fulfilled, once each, and the cron report counts them', async () => {
    const n = 12;
    for (let id = 1; id <= n - 1; id++)
      expect(await checkout(dev.gateway, { id, total: id * 2 })).toEqual({ accepted: id });
    // One order straight through the Dapr API, with the platform's token as dapr-api-token.
    const refused = await fetch(`${dev.dapr}/v1.0/publish/orders/${topic}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: n, total: 1 }),
    });
    expect(refused.status).toBe(401);
    const published = await fetch(`${dev.dapr}/v1.0/publish/orders/${topic}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'dapr-api-token': dev.token },
      body: JSON.stringify({ id: n, total: 1 }),
    });
    expect(published.status).toBe(204);

    const state = await until('every order in the state store', () => {
      const s = pipelineState(dataDir);
      return [...Array(n).keys()].every((i) => s.has(`order-${i + 1}`)) ? s : undefined;
    });
    for (let id = 1; id <= n; id++)
      expect(state.get(`order-${id}`)).toEqual({ id, total: id === n ? 1 : id * 2, deliveries: 1 });
    const report = await until('a report that counts every order', () => {
      const r = pipelineState(dataDir).get('report');
      return r?.fulfilled === n ? r : undefined;
    });
    expect(report.fulfilled).toBe(n);

    // The function was started by the lag scaler (source triggers), from zero.
    const scale = await event('scale', (e) => e.function === 'fulfil' && e.from === 0);
    expect(scale).toMatchObject({ source: 'triggers', to: expect.any(Number) });
    const counts = await until('the counts settled', async () => {
      const t = ((await fulfil()).triggers as Record<string, TriggerView>).orders;
      return t && t.delivered === n && t.inFlight === 0 && t.lag === 0 ? t : undefined;
    });
    expect(counts).toMatchObject({ delivered: n, failed: 0, retried: 0, deadLettered: 0 });
    expect(schemaErrors('Function', await fulfil())).toEqual([]);
    const shown = await event('triggers', (e) => {
      const t = (e.triggers as Record<string, TriggerView> | undefined)?.orders;
      return e.function === 'fulfil' && t?.delivered === n;
    });
    expect(shown.triggers).toMatchObject({ orders: { delivered: n, deadLettered: 0 } });
    expect(schemaErrors('Event', shown)).toEqual([]);
    expect(schemaErrors('Event', scale)).toEqual([]);
    const metrics = await (await fetch(`${dev.api}/metrics`)).text();
    expect(metrics).toContain(`sprout_triggers_delivered_total{function="fulfil",trigger="orders"} ${n}`);
    expect(metrics).toMatch(/sprout_triggers_delivered_total\{function="report",trigger="every-2s"\} [1-9]/);
    expect(metrics).toContain(
      'sprout_triggers_scaler_value{function="fulfil",trigger="nats-jetstream-0",type="nats-jetstream"}',
    );
    // Publish → ack of each order, from JetStream's own timestamp of the message.
    expect(metrics).toContain(
      `sprout_triggers_end_to_end_seconds_count{function="fulfil",trigger="orders"} ${n}`,
    );
    expect(metrics).toContain(
      `sprout_triggers_end_to_end_seconds_bucket{function="fulfil",trigger="orders",le="+Inf"} ${n}`,
    );
  }, 90_000);
});
