import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createManifestValidator, vendoredCrdsDir } from '@sprout/kube';
import { loadFunctionYaml, resolveFunctionText } from './index.js';
import { editedSample as edited, fixtures, lineOf, refusal, sample } from '../test/samples.js';

/** A minimal async function around `serving`, as YAML. */
const asyncFn = (serving: object) =>
  stringify({
    apiVersion: 'core.openfunction.io/v1beta2',
    kind: 'Function',
    metadata: { name: 'orders' },
    spec: { serving },
  });

const pubsub = {
  orders: { type: 'pubsub.jetstream', version: 'v1', metadata: [{ name: 'natsURL', value: 'nats://x' }] },
};

describe('OpenFunction async samples load', () => {
  it('async-pubsub (mqtt-io-node): a pub/sub trigger with its topic, the async runtime and its inputs', () => {
    const fn = loadFunctionYaml(join(fixtures, 'async/async-pubsub.yaml'));
    expect(fn.triggers).toEqual({
      inputs: [
        { name: 'mqtt-pubsub', componentName: 'mqtt-pubsub', componentType: 'pubsub.mqtt', topic: 'sub' },
      ],
      scaling: { pollingIntervalMs: 30_000, cooldownPeriodMs: 300_000, triggers: [] },
    });
    expect(fn.context).toEqual({
      name: 'sample-node-async-pubsub',
      version: 'v2.0.0',
      runtime: 'async',
      port: '8080',
      inputs: { 'mqtt-pubsub': { componentName: 'mqtt-pubsub', componentType: 'pubsub.mqtt', uri: 'sub' } },
      outputs: { 'mqtt-pubsub': { componentName: 'mqtt-pubsub', componentType: 'pubsub.mqtt', uri: 'pub' } },
    });
    expect(fn.components.map((c) => [c.metadata.name, c.spec.type])).toEqual([
      ['mqtt-pubsub', 'pubsub.mqtt'],
    ]);
  });

  it('async-bindings (mqtt-io-node): an MQTT input binding, typed by the trigger, and its MQTT output', () => {
    const fn = loadFunctionYaml(join(fixtures, 'async/async-bindings.yaml'));
    expect(fn.triggers?.inputs).toEqual([
      { name: 'mqtt-in', componentName: 'mqtt-in', componentType: 'bindings.mqtt' },
    ]);
    expect(fn.context.runtime).toBe('async');
    expect(fn.context.inputs).toEqual({
      'mqtt-in': { componentName: 'mqtt-in', componentType: 'bindings.mqtt', uri: 'mqtt-in' },
    });
    expect(fn.context.outputs).toEqual({
      'mqtt-out': { componentName: 'mqtt-out', componentType: 'bindings.mqtt', operation: 'create' },
    });
    expect(fn.components.map((c) => [c.metadata.name, c.spec.type])).toEqual([
      ['mqtt-in', 'bindings.mqtt'],
      ['mqtt-out', 'bindings.mqtt'],
    ]);
  });

  it('an input binding type with no local engine is refused naming the types that run', () => {
    const text = sample('async/async-bindings.yaml').replaceAll(
      'type: bindings.mqtt',
      'type: bindings.kafka',
    );
    const err = refusal(() => resolveFunctionText(text, 'async-bindings.yaml'));
    expect([err.code, err.field]).toEqual([
      'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
      'spec.serving.triggers.dapr.0.type',
    ]);
    expect(err.message).toMatch(
      new RegExp(
        `^async-bindings\\.yaml:${lineOf(text, /^\s+type: bindings\.kafka$/, /^\s+dapr:/)}: .*"bindings\\.kafka" has no local engine; sprout dev runs .*bindings\\.cron, bindings\\.mqtt3, bindings\\.mqtt`,
      ),
    );
  });

  it('cron-input: a bindings.cron trigger; without a type the type comes from serving.bindings', () => {
    const fn = loadFunctionYaml(join(fixtures, 'async/cron-input.yaml'));
    expect(fn.context.inputs).toEqual({
      cron: { componentName: 'cron', componentType: 'bindings.cron', uri: 'cron' },
    });
    const untyped = resolveFunctionText(
      edited('async/cron-input.yaml', (d) => delete d.spec.serving.triggers.dapr[0].type),
      'cron.yaml',
    );
    expect(untyped.triggers?.inputs).toEqual(fn.triggers?.inputs);
    expect(untyped.components[0]!.spec.metadata).toEqual([{ name: 'schedule', value: '@every 2s' }]);
  });

  it('the async samples Sprout loads stay valid against the vendored OpenFunction CRD', () => {
    const validator = createManifestValidator(vendoredCrdsDir());
    for (const rel of ['async/async-pubsub.yaml', 'async/async-bindings.yaml', 'async/cron-input.yaml']) {
      const fn = loadFunctionYaml(join(fixtures, rel));
      expect(validator.validate(structuredClone(fn.manifest!)).issues, rel).toEqual([]);
    }
    const scaled = resolveFunctionText(
      asyncFn({
        pubsub,
        triggers: { dapr: [{ name: 'orders', topic: 'orders' }] },
        scaleOptions: {
          minReplicas: 0,
          maxReplicas: 4,
          keda: {
            scaledObject: { pollingInterval: 5, cooldownPeriod: 30 },
            triggers: [{ type: 'nats-jetstream', metadata: { stream: 'ORDERS', lagThreshold: '10' } }],
          },
        },
      }),
      'f.yaml',
    );
    const manifest = structuredClone(scaled.manifest!);
    manifest.spec.image = 'registry.local/x:1';
    expect(validator.validate(manifest).issues).toEqual([]);
  });
});

describe('KEDA scaling of an async function', () => {
  it('scaledObject pollingInterval/cooldownPeriod in ms and KEDA triggers in KEDA’s own metadata names', () => {
    const fn = resolveFunctionText(
      asyncFn({
        pubsub,
        triggers: { dapr: [{ name: 'orders', topic: 'orders', inputName: 'incoming' }] },
        scaleOptions: {
          minReplicas: 1,
          maxReplicas: 5,
          keda: {
            scaledObject: { pollingInterval: 2, cooldownPeriod: 45 },
            triggers: [
              {
                type: 'nats-jetstream',
                name: 'lag',
                metadata: {
                  stream: 'ORDERS',
                  consumer: 'orders',
                  lagThreshold: '10',
                  activationLagThreshold: '1',
                },
              },
              {
                type: 'cron',
                metadata: { timezone: 'UTC', start: '0 8 * * *', end: '0 18 * * *', desiredReplicas: '2' },
              },
              {
                type: 'rabbitmq',
                metricType: 'Value',
                metadata: { queueName: 'q', mode: 'QueueLength', value: '20' },
              },
            ],
          },
        },
      }),
      'f.yaml',
    );
    expect(fn.scaling).toMatchObject({ minReplicas: 1, maxReplicas: 5 });
    expect(fn.triggers).toEqual({
      inputs: [
        { name: 'incoming', componentName: 'orders', componentType: 'pubsub.jetstream', topic: 'orders' },
      ],
      scaling: {
        pollingIntervalMs: 2000,
        cooldownPeriodMs: 45_000,
        triggers: [
          {
            type: 'nats-jetstream',
            name: 'lag',
            metadata: {
              stream: 'ORDERS',
              consumer: 'orders',
              lagThreshold: '10',
              activationLagThreshold: '1',
            },
            metricType: 'AverageValue',
            at: expect.any(Object),
          },
          {
            type: 'cron',
            metadata: { timezone: 'UTC', start: '0 8 * * *', end: '0 18 * * *', desiredReplicas: '2' },
            metricType: 'AverageValue',
            at: expect.any(Object),
          },
          {
            type: 'rabbitmq',
            metadata: { queueName: 'q', mode: 'QueueLength', value: '20' },
            metricType: 'Value',
            at: expect.any(Object),
          },
        ],
      },
    });
    // The FUNC_CONTEXT key is inputName, as OpenFunction's controller writes it.
    expect(fn.context.inputs).toEqual({
      incoming: { componentName: 'orders', componentType: 'pubsub.jetstream', uri: 'orders' },
    });
  });

  it('an HTTP function has no triggers; KEDA triggers alone (no Dapr input) keep the knative runtime', () => {
    expect(resolveFunctionText(asyncFn({}), 'f.yaml').triggers).toBeUndefined();
    const fn = resolveFunctionText(
      asyncFn({ scaleOptions: { keda: { triggers: [{ type: 'cron', metadata: { start: '* * * * *' } }] } } }),
      'f.yaml',
    );
    expect(fn.triggers?.inputs).toEqual([]);
    expect(fn.context.runtime).toBe('knative');
    expect(fn.context.inputs).toBeUndefined();
  });
});

describe('what Sprout cannot honour is refused with file, line and field', () => {
  const cases: [string, object, string, string, RegExp][] = [
    [
      'a pub/sub trigger without a topic',
      { pubsub, triggers: { dapr: [{ name: 'orders' }] } },
      'SPROUT_ERR_SPEC_INVALID_FUNCTION',
      'spec.serving.triggers.dapr.0.topic',
      /- name: orders/,
    ],
    [
      'a trigger with no type and no component of its name',
      { triggers: { dapr: [{ name: 'elsewhere', topic: 't' }] } },
      'SPROUT_ERR_SPEC_INVALID_FUNCTION',
      'spec.serving.triggers.dapr.0.type',
      /- name: elsewhere/,
    ],
    [
      'a Kafka pub/sub (its type from serving.pubsub)',
      {
        pubsub: { k: { type: 'pubsub.kafka', version: 'v1', metadata: [] } },
        triggers: { dapr: [{ name: 'k', topic: 't' }] },
      },
      'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
      'spec.serving.triggers.dapr.0.name',
      /- name: k$/,
    ],
    [
      'a KEDA scaler with no local counterpart',
      { scaleOptions: { keda: { triggers: [{ type: 'kafka', metadata: {} }] } } },
      'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
      'spec.serving.scaleOptions.keda.triggers.0.type',
      /type: kafka/,
    ],
    [
      'KEDA fallback replicas',
      { scaleOptions: { keda: { scaledObject: { fallback: { failureThreshold: 3, replicas: 2 } } } } },
      'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
      'spec.serving.scaleOptions.keda.scaledObject.fallback',
      /fallback:/,
    ],
    [
      'minReplicaCount (OpenFunction has scaleOptions.minReplicas)',
      { scaleOptions: { keda: { scaledObject: { minReplicaCount: 1 } } } },
      'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
      'spec.serving.scaleOptions.keda.scaledObject.minReplicaCount',
      /minReplicaCount:/,
    ],
    [
      'a KEDA TriggerAuthentication',
      {
        scaleOptions: {
          keda: { triggers: [{ type: 'rabbitmq', metadata: {}, authenticationRef: { name: 'a' } }] },
        },
      },
      'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
      'spec.serving.scaleOptions.keda.triggers.0.authenticationRef',
      /authenticationRef:/,
    ],
    [
      'a KEDA metricType of Utilization',
      { scaleOptions: { keda: { triggers: [{ type: 'cron', metadata: {}, metricType: 'Utilization' }] } } },
      'SPROUT_ERR_SPEC_INVALID_FUNCTION',
      'spec.serving.scaleOptions.keda.triggers.0.metricType',
      /metricType:/,
    ],
    [
      'v1beta2 triggers.inputs',
      { triggers: { inputs: [{ dapr: { name: 'x', type: 'bindings.cron' } }] } },
      'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
      'spec.serving.triggers.inputs',
      /inputs:/,
    ],
  ];

  it.each(cases)('%s', (_what, serving, code, field, line) => {
    const text = asyncFn(serving);
    const err = refusal(() => resolveFunctionText(text, 'f.yaml'));
    expect([err.code, err.field]).toEqual([code, field]);
    expect(err.message).toMatch(
      new RegExp(`^f\\.yaml:${lineOf(text, line)}: field "${field.replace(/\./g, '\\.')}"`),
    );
  });

  it('an unsupported component type names the types that do run locally', () => {
    const err = refusal(() =>
      resolveFunctionText(
        asyncFn({ triggers: { dapr: [{ name: 'k', type: 'pubsub.kafka', topic: 't' }] } }),
        'f.yaml',
      ),
    );
    expect(err.message).toContain('component type "pubsub.kafka" has no local engine; sprout dev runs ');
    for (const t of ['pubsub.redis', 'pubsub.jetstream', 'pubsub.rabbitmq', 'pubsub.mqtt3', 'bindings.cron'])
      expect(err.message).toContain(t);
  });
});
