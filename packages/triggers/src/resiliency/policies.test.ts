import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadResources, type ResiliencyDocument } from '@sprout/spec';
import { DAPR_RETRY_DEFAULTS, DEFAULT_RETRY_POLICY } from '../delivery/policy.js';
import { ResiliencyPolicies } from './policies.js';

/** Dapr's upstream Resiliency files, vendored by @sprout/spec, read as a resources folder is. */
const fixtures = fileURLToPath(new URL('../../../spec/test/fixtures/dapr-resiliency/', import.meta.url));
function load(name: string): ResiliencyDocument {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-resiliency-'));
  try {
    copyFileSync(join(fixtures, name), join(dir, 'resiliency.yaml'));
    return loadResources(dir, { resiliency: true }).resiliencies![0]!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('ResiliencyPolicies: which policy applies to a component operation, as daprd resolves it', () => {
  it("the default-policies page's table: publish takes DefaultRetryPolicy, subscribe DefaultComponentInboundRetryPolicy", () => {
    const r = new ResiliencyPolicies([load('local/docs-default-policies.yaml')], 'appA');
    const publish = r.component('pubsub', 'Pubsub', 'outbound');
    expect(publish.names).toEqual({ retry: 'DefaultRetryPolicy' });
    expect(publish.retry).toEqual({
      policy: 'constant',
      durationMs: 1000,
      maxIntervalMs: 60_000,
      maxRetries: 3,
    });
    const subscribe = r.component('pubsub', 'Pubsub', 'inbound');
    expect(subscribe.names).toEqual({ retry: 'DefaultComponentInboundRetryPolicy' });
    expect(subscribe.retry).toEqual({
      policy: 'constant',
      durationMs: 5000,
      maxIntervalMs: 60_000,
      maxRetries: 5,
    });
    // An output binding: no Binding default, so the global one.
    expect(r.component('out', 'Binding', 'outbound').names).toEqual({ retry: 'DefaultRetryPolicy' });
  });

  it("the complete example's pubsub2: named inbound and outbound policies, one breaker per component and direction", () => {
    const r = new ResiliencyPolicies([load('local/docs-complete-example.yaml')], 'app1');
    const inbound = r.component('pubsub2', 'Pubsub', 'inbound');
    expect(inbound.names).toEqual({ timeout: 'general', retry: 'important', circuitBreaker: 'pubsubCB' });
    expect(inbound.timeoutMs).toBe(5000);
    expect(inbound.retry).toEqual({
      policy: 'constant',
      durationMs: 5000,
      maxIntervalMs: 60_000,
      maxRetries: 30,
    });
    expect(inbound.breaker).toBe(r.component('pubsub2', 'Pubsub', 'inbound').breaker);
    expect(inbound.breaker).not.toBe(r.component('pubsub2', 'Pubsub', 'outbound').breaker);
    // pubsub1 names outbound only: inbound has none (a target is not completed by defaults).
    expect(r.component('pubsub1', 'Pubsub', 'inbound')).toEqual({ names: {} });
    // someOperation leaves maxRetries and duration out: Dapr's defaults (-1, 5 s), not Sprout's.
    const doc = load('local/docs-complete-example.yaml');
    doc.components.x = { inbound: { retry: 'someOperation' } };
    const x = new ResiliencyPolicies([doc], 'app2').component('x', 'Binding', 'inbound');
    expect(x.retry).toEqual({ ...DAPR_RETRY_DEFAULTS, policy: 'exponential', maxIntervalMs: 15_000 });
    expect(x.retry).not.toEqual(DEFAULT_RETRY_POLICY);
  });

  it('skips documents scoped to other apps; a later document wins a name', () => {
    const scoped = load('local/docs-complete-example.yaml'); // scopes app1, app2
    expect(new ResiliencyPolicies([scoped], 'other').empty).toBe(true);
    const e2e = load('dapr-e2e-pubsub-resiliency.yaml');
    const later = {
      ...e2e,
      retries: { pubsubRetry: { policy: 'constant' as const, durationMs: 10, maxRetries: 1 } },
    };
    const r = new ResiliencyPolicies([e2e, later], 'any');
    expect(r.component('messagebus', 'Pubsub', 'inbound').retry?.durationMs).toBe(10);
  });

  it('matching status codes travel with the retry policy', () => {
    const doc = load('docs-retries.yaml');
    doc.components.bus = { inbound: { retry: 'retry5xxOnly' } };
    const p = new ResiliencyPolicies([doc], 'a').component('bus', 'Pubsub', 'inbound');
    expect(p.retry?.httpStatusCodes).toEqual([
      [429, 429],
      [500, 599],
    ]);
  });
});
