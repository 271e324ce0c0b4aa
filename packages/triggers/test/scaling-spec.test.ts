// The lag scaler reads a function as @sprout/spec resolves it: one reading of function.yaml for
// sprout dev, the gateway and the scaler.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFunctionDir } from '@sprout/spec';
import { afterAll, describe, expect, it } from 'vitest';
import { lagScalingOf } from '../src/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function folder(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-triggers-scaling-spec-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'index.js'), 'export const handle = async (ctx, data) => data;\n');
  writeFileSync(join(dir, 'function.yaml'), yaml);
  return dir;
}

const ASYNC = `apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata: { name: lagged }
spec:
  version: v1.0.0
  image: registry.local/lagged:1
  serving:
    pubsub:
      bus:
        type: pubsub.jetstream
        version: v1
        metadata: [{ name: natsURL, value: 'nats://127.0.0.1:4222' }]
    triggers:
      dapr: [{ name: bus, topic: orders }]
    scaleOptions:
      minReplicas: 1
      maxReplicas: 6
      keda:
        scaledObject: { pollingInterval: 2, cooldownPeriod: 40 }
        triggers:
          - type: nats-jetstream
            metricType: Value
            metadata: { stream: orders, consumer: lagged, lagThreshold: '50' }
          - type: cron
            name: office-hours
            metadata: { timezone: UTC, start: 0 8 * * *, end: 0 18 * * *, desiredReplicas: '2' }
`;

describe('lagScalingOf a resolved function', () => {
  it('takes min/max, polling, cooldown and the KEDA triggers as @sprout/spec resolved them', () => {
    const scaling = lagScalingOf(loadFunctionDir(folder(ASYNC)));
    expect(scaling?.policy).toEqual({
      minReplicas: 1,
      maxReplicas: 6,
      pollingIntervalMs: 2000,
      cooldownPeriodMs: 40_000,
    });
    expect(scaling?.triggers.map((t) => [t.type, t.name, t.metricType, t.target, t.source])).toEqual([
      ['nats-jetstream', 'nats-jetstream-0', 'Value', 50, 'orders/lagged'],
      ['cron', 'office-hours', 'AverageValue', 1, 'UTC'],
    ]);
  });

  it('is undefined for an HTTP function', () => {
    const http = folder(`apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata: { name: plain }
spec:
  version: v1.0.0
  image: registry.local/plain:1
  serving:
    triggers: { http: { port: 8080 } }
`);
    expect(lagScalingOf(loadFunctionDir(http))).toBeUndefined();
  });

  it('refuses, naming the field, what the spec lets through but KEDA would not scale on', () => {
    const bad = folder(ASYNC.replace("lagThreshold: '50'", "lagThreshold: 'fifty'"));
    expect(() => lagScalingOf(loadFunctionDir(bad))).toThrow(
      expect.objectContaining({
        code: 'SPROUT_ERR_TRIGGERS_SCALER_INVALID',
        field: 'spec.serving.scaleOptions.keda.triggers[0].metadata.lagThreshold',
      }),
    );
  });
});
