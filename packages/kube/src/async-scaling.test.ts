import { describe, expect, it } from 'vitest';
import {
  isAsyncFunction,
  renderAsyncWorkload,
  renderScaledObject,
  renderSubscription,
  withClusterScalers,
} from './async-scaling.js';
import { FUNCTION_API_VERSION, type FunctionManifest } from './function.js';
import { createManifestValidator } from './validate.js';

const validator = createManifestValidator();

function asyncFn(triggers: unknown[], extra: Record<string, unknown> = {}): FunctionManifest {
  return {
    apiVersion: FUNCTION_API_VERSION,
    kind: 'Function',
    metadata: { name: 'orders-consumer', namespace: 'shop' },
    spec: {
      version: 'v1.0.0',
      image: 'registry.example.com/orders:v1',
      serving: {
        annotations: { 'dapr.io/log-level': 'debug' },
        triggers: { dapr: [{ name: 'orders', type: 'pubsub.jetstream', topic: 'created' }] },
        scaleOptions: {
          minReplicas: 0,
          maxReplicas: 8,
          keda: { scaledObject: { pollingInterval: 5, cooldownPeriod: 60 }, triggers },
          ...extra,
        },
      },
    },
  };
}

const ALL = [
  {
    type: 'nats-jetstream',
    name: 'orders',
    metadata: {
      natsServerMonitoringEndpoint: 'nats.nats.svc:8222',
      stream: 'orders',
      consumer: 'orders-consumer',
      lagThreshold: 10,
      activationLagThreshold: '0',
    },
  },
  {
    type: 'redis-streams',
    metadata: { address: 'redis:6379', stream: 's', consumerGroup: 'g', lagCount: '20' },
  },
  {
    type: 'rabbitmq',
    metadata: { host: 'amqp://rabbit:5672', queueName: 'q', mode: 'QueueLength', value: '30' },
  },
  {
    type: 'cron',
    metadata: { timezone: 'Europe/Berlin', start: '0 8 * * 1-5', end: '0 18 * * 1-5', desiredReplicas: '2' },
  },
  {
    type: 'mqtt',
    metadata: { scalerAddress: 'mqtt-scaler.shop:9090', topic: 'sensors/#', targetValue: '10' },
  },
];

describe('renderScaledObject', () => {
  it('renders every scaler type as KEDA runs it, valid against the vendored ScaledObject CRD', () => {
    const fn = asyncFn(ALL);
    expect(isAsyncFunction(fn)).toBe(true);
    const so = renderScaledObject(fn);
    validator.assertValid(so);
    expect(so).toMatchObject({
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: 'orders-consumer', namespace: 'shop' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'orders-consumer' },
        pollingInterval: 5,
        cooldownPeriod: 60,
        minReplicaCount: 0,
        maxReplicaCount: 8,
      },
    });
    const triggers = so.spec.triggers as { type: string; name?: string; metadata: Record<string, string> }[];
    expect(triggers.map((t) => t.type)).toEqual([
      'nats-jetstream',
      'redis-streams',
      'rabbitmq',
      'cron',
      'external',
    ]);
    expect(triggers[0]).toMatchObject({ name: 'orders', metadata: { lagThreshold: '10' } });
    expect(triggers[4]!.metadata).toEqual({
      scalerAddress: 'mqtt-scaler.shop:9090',
      topic: 'sensors/#',
      targetValue: '10',
    });
  });

  it('gives the Function the same cluster scalers, valid against the Function CRD', () => {
    const fn = withClusterScalers(asyncFn(ALL));
    validator.assertValid(fn);
    const so = (fn.spec.serving as { scaleOptions: { keda: { triggers: { type: string }[] } } }).scaleOptions;
    expect(so.keda.triggers.map((t) => t.type)).toEqual([
      'nats-jetstream',
      'redis-streams',
      'rabbitmq',
      'cron',
      'external',
    ]);
  });

  it("refuses Sprout's mqtt scaler without scalerAddress, naming the field", () => {
    expect(() => renderScaledObject(asyncFn([{ type: 'mqtt', metadata: { topic: 't' } }]))).toThrow(
      expect.objectContaining({
        code: 'SPROUT_ERR_KUBE_RENDER_UNSUPPORTED',
        field: 'spec.serving.scaleOptions.keda.triggers[0].metadata.scalerAddress',
      }),
    );
  });

  it('the CRD check bites: KEDA refuses what the schema and its patch refuse', () => {
    const so = renderScaledObject(asyncFn(ALL.slice(0, 1)));
    const bad = {
      ...so,
      spec: {
        ...so.spec,
        advanced: {
          horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: 4000 } } },
        },
      },
    };
    expect(validator.validate(bad).valid).toBe(false);
    expect(validator.validate({ ...so, spec: { ...so.spec, triggers: [{ metadata: {} }] } }).valid).toBe(
      false,
    );
  });

  it('an HTTP-only function is not async', () => {
    const fn = asyncFn([]);
    (fn.spec.serving as { triggers: unknown }).triggers = { http: { port: 8080 } };
    expect(isAsyncFunction(fn)).toBe(false);
  });
});

describe('renderAsyncWorkload', () => {
  it('runs the function beside a Dapr sidecar with its FUNC_CONTEXT, from minReplicas', () => {
    const ctx = {
      name: 'orders-consumer',
      version: 'v1.0.0',
      runtime: 'Async',
      port: '8080',
      inputs: { orders: {} },
    };
    const d = renderAsyncWorkload(asyncFn(ALL), ctx);
    expect(d.kind).toBe('Deployment');
    expect(d.spec.replicas).toBe(0);
    const tpl = d.spec.template as {
      metadata: { annotations: Record<string, string> };
      spec: { containers: { env: { name: string; value: string }[] }[] };
    };
    expect(tpl.metadata.annotations).toEqual({
      'dapr.io/enabled': 'true',
      'dapr.io/app-id': 'orders-consumer',
      'dapr.io/app-port': '8080',
      'dapr.io/app-protocol': 'http',
      'dapr.io/log-level': 'debug',
    });
    const env = tpl.spec.containers[0]!.env;
    expect(JSON.parse(env.find((e) => e.name === 'FUNC_CONTEXT')!.value)).toEqual(ctx);
  });
});

describe('renderSubscription', () => {
  it('keeps routes, rules and deadLetterTopic, valid against the vendored Dapr Subscription CRD', () => {
    const sub = renderSubscription(
      {
        apiVersion: 'dapr.io/v2alpha1',
        kind: 'Subscription',
        metadata: { name: 'orders-sub' },
        spec: {
          pubsubname: 'orders',
          topic: 'created',
          routes: { rules: [{ match: 'event.type == "big"', path: '/big' }], default: '/orders' },
          deadLetterTopic: 'orders-dead',
        },
      },
      { namespace: 'shop', scopes: ['orders-consumer'] },
    );
    validator.assertValid(sub);
    expect(sub).toMatchObject({
      metadata: { name: 'orders-sub', namespace: 'shop' },
      spec: { deadLetterTopic: 'orders-dead' },
      scopes: ['orders-consumer'],
    });
    expect(
      validator.validate({ ...sub, spec: { ...sub.spec, routes: { rules: [{ match: 1 }] } } }).valid,
    ).toBe(false);
  });
});
