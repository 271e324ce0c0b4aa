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

/** A function.yaml whose one KEDA trigger starts on line 18 (`- type:`); its metadata keys are one a line from line 20. */
const withTrigger = (
  type: string,
  metadata: string,
) => `${ASYNC.slice(0, ASYNC.indexOf('    scaleOptions:'))}    scaleOptions:
      keda:
        triggers:
          - type: ${type}
            metadata:
${metadata
  .trim()
  .split('\n')
  .map((l) => `              ${l.trim()}`)
  .join('\n')}
`;

const refusedBy = (yaml: string) => {
  try {
    lagScalingOf(loadFunctionDir(folder(yaml)));
  } catch (err) {
    return err as { code: string; field: string; message: string };
  }
  throw new Error('not refused');
};

const field = (key: string) => `spec.serving.scaleOptions.keda.triggers[0].metadata.${key}`;

describe('KEDA trigger metadata: nothing Sprout cannot honour is ignored silently (file:line and field)', () => {
  // [type, metadata (one key a line, from line 20), bad key, its line, a KEDA name the message lists]
  it.each([
    ['nats-jetstream', 'stream: s\nconsumer: c\nlagTreshold: "5"', 'lagTreshold', 22, 'lagThreshold'],
    ['redis-streams', 'stream: s\nfoo: bar', 'foo', 21, 'pendingEntriesCount'],
    ['rabbitmq', 'queueName: q\nmode: QueueLength\nvalue: "5"\nqueue: q', 'queue', 23, 'activationValue'],
    [
      'cron',
      'timezone: UTC\nstart: 0 8 * * *\nend: 0 9 * * *\ndesiredReplicas: "1"\nreplicas: "2"',
      'replicas',
      24,
      'desiredReplicas',
    ],
    ['mqtt', 'topic: t\ntargetValu: "5"', 'targetValu', 21, 'targetValue'],
  ])(
    '%s: an unknown key is refused at its line, listing KEDA’s names',
    (type, metadata, key, line, listed) => {
      const err = refusedBy(withTrigger(type, metadata));
      expect(err.code).toBe('SPROUT_ERR_TRIGGERS_SCALER_INVALID');
      expect(err.field).toBe(field(key));
      expect(err.message).toMatch(
        new RegExp(`function\\.yaml:${line}: ${field(key).replace(/[.[\]]/g, '\\$&')}: "${key}"`),
      );
      expect(err.message).toContain(listed);
      expect(err.message).toContain('KEDA 2.16');
    },
  );

  it('a miscased name is refused at its line, naming the name meant', () => {
    const err = refusedBy(withTrigger('nats-jetstream', 'stream: s\nconsumer: c\nlagthreshold: "5"'));
    expect(err.field).toBe(field('lagthreshold'));
    expect(err.message).toMatch(/function\.yaml:22: .*write "lagThreshold"/);
  });

  it.each([
    ['useRegex', 'true', 'not queues matching a pattern'],
    ['excludeUnacknowledged', 'true', 'in flight'],
  ])('rabbitmq %s: %s is KEDA’s but not honoured locally: refused with the reason', (key, value, why) => {
    const err = refusedBy(withTrigger('rabbitmq', `queueName: q\n${key}: "${value}"`));
    expect(err.field).toBe(field(key));
    expect(err.message).toMatch(new RegExp(`function\\.yaml:21: .*not honoured locally.*${why}`));
  });

  it('a KEDA name read only from the environment is refused as metadata, naming its FromEnv form', () => {
    const err = refusedBy(withTrigger('rabbitmq', 'queueName: q\npassword: secret'));
    expect(err.message).toMatch(/function\.yaml:21: .*write "passwordFromEnv"/);
  });

  it('keeps the connection names a cluster’s scaler uses, and their FromEnv forms', () => {
    const scaling = lagScalingOf(
      loadFunctionDir(
        folder(
          withTrigger(
            'rabbitmq',
            'queueName: q\nprotocol: http\nhostFromEnv: RABBIT\npasswordFromEnv: PW\nuseRegex: "false"\nunsafeSsl: "true"',
          ),
        ),
      ),
    );
    expect(scaling?.triggers[0]?.source).toBe('q');
  });

  it.each([
    ['nats-jetstream', 'stream: s', 'consumer'],
    ['cron', 'timezone: UTC\nend: 0 9 * * *\ndesiredReplicas: "1"', 'start'],
    ['mqtt', 'targetValue: "5"', 'topic'],
  ])('%s: a missing required key points at the trigger that lacks it', (type, metadata, key) => {
    const err = refusedBy(withTrigger(type, metadata));
    expect(err.field).toBe(field(key));
    expect(err.message).toMatch(new RegExp(`function\\.yaml:18: .*metadata\\.${key}: is required`));
  });
});
