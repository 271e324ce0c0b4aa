// A Dapr Resiliency file beside a function.yaml in a real `sprout dev` (examples/order-pipeline on
// NATS JetStream): the fulfil function's `orders` component gets its inbound timeout and retries.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanUp, pipelineCopy, startSproutDev, stop, until, type RunningDev } from './async-dev.js';

const { dir, topic, stream } = pipelineCopy('resiliency');
const running: RunningDev[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await stop(d.child, 'SIGKILL');
});
afterAll(async () => {
  await cleanUp(dir, stream);
});

// Each attempt may take 300 ms; two retries 100 ms apart. Without the file, Sprout's defaults
// (a 60 s timeout) would let a 1 s handler succeed on its first attempt.
writeFileSync(
  join(dir, 'fns', 'fulfil', 'resiliency.yaml'),
  `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: fulfil
spec:
  policies:
    timeouts:
      quick: 300ms
    retries:
      twice:
        policy: constant
        duration: 100ms
        maxRetries: 2
  targets:
    components:
      orders:
        inbound:
          timeout: quick
          retry: twice
`,
);

interface TriggerView {
  delivered: number;
  failed: number;
  retried: number;
  requeued: number;
}

describe('Dapr Resiliency in sprout dev', () => {
  it("applies a resiliency.yaml beside the function.yaml to its component's deliveries", async () => {
    const dev = await startSproutDev(dir, join(dir, 'data'));
    running.push(dev);
    const r = await fetch(`${dev.dapr}/v1.0/publish/orders/${topic}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'dapr-api-token': dev.token },
      body: JSON.stringify({ id: 1, total: 2, slowMs: 1000 }),
    });
    expect(r.status).toBe(204);
    const view = await until(
      'three attempts cut at the timeout, then the message handed back',
      async () => {
        const fn = await dev.call('/v1/functions/fulfil');
        const t = (fn.body.triggers as Record<string, TriggerView> | undefined)?.orders;
        return t && t.requeued >= 1 ? t : undefined;
      },
      60_000,
    );
    // One attempt and two retries, each cut at 300 ms; no dead-letter topic, so back to the broker.
    expect(view.failed).toBeGreaterThanOrEqual(3);
    expect(view.retried).toBeGreaterThanOrEqual(2);
    expect(view.delivered).toBe(0);
    await stop(dev.child);
  }, 120_000);
});
