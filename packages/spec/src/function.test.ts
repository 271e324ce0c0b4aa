import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_SCALING, loadFunctionYaml, resolveFunctionText, SpecError } from './index.js';
import { mutateTextSome, prng, timeBox } from '../test/fuzz.js';
import { editedSample, fixtures, lineOf, refusal, sample } from '../test/samples.js';

describe('resolveFunctionText on OpenFunction samples', () => {
  it('function-sample: build, timeout, HTTP trigger through a gateway, every other default', () => {
    const text = sample('function-sample.yaml');
    const fn = resolveFunctionText(text, 'function-sample.yaml');
    expect(fn).toEqual({
      name: 'function-sample',
      namespace: 'default',
      expose: { enabled: true },
      dir: '.',
      file: 'function-sample.yaml',
      version: 'v1.0.0',
      env: {},
      context: { name: 'function-sample', version: 'v1.0.0', runtime: 'knative', port: '8080' },
      components: [],
      routes: [],
      engine: 'knative',
      scaling: DEFAULT_SCALING,
      readinessTimeoutMs: 20_000,
      drainTimeoutMs: 30_000,
      requestTimeoutSeconds: 300,
      build: {
        builder: 'openfunction/builder-go:latest',
        env: { FUNC_CLEAR_SOURCE: 'true', FUNC_NAME: 'HelloWorld' },
        srcRepo: {
          url: 'https://github.com/OpenFunction/samples.git',
          sourceSubPath: 'functions/knative/hello-world-go',
        },
      },
      manifest: parse(text),
    });
    // The Shipwright knobs are carried to the cluster in the manifest as written.
    expect(fn.manifest!.spec.build).toMatchObject({
      failedBuildsHistoryLimit: 3,
      successfulBuildsHistoryLimit: 2,
    });
    expect(fn.scaling).not.toBe(DEFAULT_SCALING);
  });

  it('function-kedahttp-sample: KEDA engine, port, host and path route, httpScaledObject scaling', () => {
    const fn = resolveFunctionText(sample('function-kedahttp-sample-serving.yaml'), 'kedahttp.yaml');
    expect(fn).toMatchObject({
      name: 'kedahttp-sample',
      version: 'v2.0.0',
      engine: 'keda',
      context: { name: 'kedahttp-sample', version: 'v2.0.0', runtime: 'knative', port: '9898' },
      routes: [{ hosts: ['podinfo.com'], pathPrefix: '/' }],
      scaling: {
        ...DEFAULT_SCALING,
        minReplicas: 0,
        maxReplicas: 10,
        targetConcurrency: 100,
        scaledownPeriodMs: 60_000,
      },
      components: [],
      env: {},
    });
    expect(fn.build).toBeUndefined();
    expect(fn.requestTimeoutSeconds).toBeUndefined();
  });

  it('with-output-binding-node: params as target, signature and env; an output binding; replicas', () => {
    const text = sample('with-output-binding-node.yaml');
    const fn = resolveFunctionText(text, 'fns/http-trigger.yaml');
    expect(fn).toMatchObject({
      name: 'sample-node-http-trigger',
      dir: 'fns',
      version: 'v2.0.0',
      target: 'tryKnativeAsync',
      signatureType: 'openfunction',
      env: {
        FUNCTION_TARGET: 'tryKnativeAsync',
        FUNCTION_SIGNATURE_TYPE: 'openfunction',
        DEBUG: 'common:*,ofn:*',
      },
      scaling: { minReplicas: 0, maxReplicas: 2 },
      routes: [],
    });
    expect(fn.context).toEqual({
      name: 'sample-node-http-trigger',
      version: 'v2.0.0',
      runtime: 'knative',
      port: '8080',
      outputs: { 'mqtt-out': { componentName: 'mqtt-out', componentType: 'bindings.mqtt' } },
    });
    expect(fn.components).toEqual([
      {
        apiVersion: 'dapr.io/v1alpha1',
        kind: 'Component',
        metadata: { name: 'mqtt-out' },
        spec: {
          type: 'bindings.mqtt',
          version: 'v1',
          metadata: [
            { name: 'consumerID', value: '{uuid}' },
            { name: 'url', value: 'tcp://admin:public@emqx:1883' },
            { name: 'topic', value: 'out' },
          ],
        },
        source: 'fns/http-trigger.yaml: bindings.mqtt-out',
        // Where each metadata item is written (its name, its value), for the engines' messages.
        metadataAt: {
          consumerID: { name: 'fns/http-trigger.yaml:49', value: 'fns/http-trigger.yaml:50' },
          url: { name: 'fns/http-trigger.yaml:51', value: 'fns/http-trigger.yaml:52' },
          topic: { name: 'fns/http-trigger.yaml:53', value: 'fns/http-trigger.yaml:54' },
        },
        // ... and its metadata list, for a key it lacks.
        componentAt: 'fns/http-trigger.yaml:48',
      },
    ]);
    expect(fn.manifest).toEqual(parse(text));
  });

  it('async-pubsub without its Dapr trigger: a pub/sub output gets its topic as uri; namespace kept', () => {
    const text = editedSample('async/async-pubsub.yaml', (d) => delete d.spec.serving.triggers);
    const fn = resolveFunctionText(text, 'async-pubsub.yaml');
    expect(fn).toMatchObject({
      name: 'sample-node-async-pubsub',
      namespace: 'default',
      target: 'tryAsync',
      env: { DEBUG: 'common:*,ofn:*', FUNCTION_TARGET: 'tryAsync' },
    });
    expect(fn.context.outputs).toEqual({
      'mqtt-pubsub': { componentName: 'mqtt-pubsub', componentType: 'pubsub.mqtt', uri: 'pub' },
    });
    expect(fn.components).toEqual([
      expect.objectContaining({
        metadata: { name: 'mqtt-pubsub', namespace: 'default' },
        spec: {
          type: 'pubsub.mqtt',
          version: 'v1',
          metadata: [
            { name: 'consumerID', value: '{uuid}' },
            { name: 'url', value: 'tcp://admin:public@emqx:1883' },
            { name: 'qos', value: 1 },
          ],
        },
        source: 'async-pubsub.yaml: pubsub.mqtt-pubsub',
      }),
    ]);
  });

  it('cron-input-kafka-output without trigger and hooks: bindings in order, operation, build with revision', () => {
    const text = editedSample('unsupported/cron-input-kafka-output.yaml', (d) => {
      delete d.spec.serving.triggers;
      delete d.spec.serving.hooks;
    });
    const fn = resolveFunctionText(text, 'cron.yaml');
    expect(fn.context.outputs).toEqual({
      'kafka-server': { componentName: 'kafka-server', componentType: 'bindings.kafka', operation: 'create' },
    });
    expect(
      fn.components.map((c) => [c.metadata.name, c.spec.type, c.spec.metadata.length, c.source]),
    ).toEqual([
      ['cron', 'bindings.cron', 1, 'cron.yaml: bindings.cron'],
      ['kafka-server', 'bindings.kafka', 5, 'cron.yaml: bindings.kafka-server'],
    ]);
    expect(fn.components[1]!.spec).toMatchObject({ ignoreErrors: false, initTimeout: '' });
    expect(fn.build).toEqual({
      builder: 'openfunction/builder-go:latest',
      env: { FUNC_CLEAR_SOURCE: 'true', FUNC_NAME: 'HandleCronInput' },
      srcRepo: {
        url: 'https://github.com/OpenFunction/samples.git',
        revision: 'main',
        sourceSubPath: 'functions/async/bindings/cron-input-kafka-output',
      },
    });
    expect(fn.version).toBe('v2.0.0');
  });

  it('derives states, output metadata and the function container env as OpenFunction does', () => {
    // The state store spec is OpenFunction's own statestore.yaml sample.
    const store = parse(
      readFileSync(
        fileURLToPath(new URL('../test/fixtures/components/local/statestore.yaml', import.meta.url)),
        'utf8',
      ),
    );
    const text = editedSample('with-output-binding-node.yaml', (d) => {
      d.metadata.namespace = 'shop';
      d.spec.serving.states = { statestore: { spec: store.spec } };
      d.spec.serving.outputs[0].dapr.metadata = { retain: 'true' };
      d.spec.serving.outputs.push({
        dapr: { name: 'audit', type: 'pubsub.mqtt', topic: 'audit', operation: 'publish' },
      });
      d.spec.serving.template.containers = [
        { name: 'sidecar', env: [{ name: 'SIDECAR_ONLY', value: 'x' }] },
        {
          name: 'function',
          env: [{ name: 'GREETING', value: 'hi' }, { name: 'EMPTY' }, { name: 'DEBUG', value: 'off' }],
        },
      ];
    });
    const fn = resolveFunctionText(text, 'fn.yaml');
    expect(fn.context).toEqual({
      name: 'sample-node-http-trigger',
      version: 'v2.0.0',
      runtime: 'knative',
      port: '8080',
      outputs: {
        'mqtt-out': {
          componentName: 'mqtt-out',
          componentType: 'bindings.mqtt',
          metadata: { retain: 'true' },
        },
        audit: { componentName: 'audit', componentType: 'pubsub.mqtt', uri: 'audit', operation: 'publish' },
      },
      states: { statestore: { componentName: 'statestore', componentType: 'state.redis' } },
    });
    expect(fn.components.map((c) => [c.source, c.metadata])).toEqual([
      ['fn.yaml: states.statestore', { name: 'statestore', namespace: 'shop' }],
      ['fn.yaml: bindings.mqtt-out', { name: 'mqtt-out', namespace: 'shop' }],
    ]);
    expect(fn.components[0]!.spec).toEqual(store.spec);
    // The `function` container's env, then params (which win).
    expect(fn.env).toEqual({
      GREETING: 'hi',
      EMPTY: '',
      DEBUG: 'common:*,ofn:*',
      FUNCTION_TARGET: 'tryKnativeAsync',
      FUNCTION_SIGNATURE_TYPE: 'openfunction',
    });
    expect(fn.namespace).toBe('shop');
  });

  it('validates inline components as Dapr components, naming the file and the block', () => {
    const text = editedSample('with-output-binding-node.yaml', (d) => {
      d.spec.serving.bindings.mqtt_out = d.spec.serving.bindings['mqtt-out'];
    });
    const err = refusal(() => resolveFunctionText(text, 'fn.yaml'));
    expect([err.code, err.field]).toEqual(['SPROUT_ERR_SPEC_INVALID_COMPONENT', 'metadata.name']);
    expect(err.message).toMatch(/^fn\.yaml: bindings\.mqtt_out: metadata\.name /);
  });

  it('loadFunctionYaml reads the same sample from disk, with its folder as the function folder', () => {
    const file = join(fixtures, 'function-kedahttp-sample-serving.yaml');
    expect(loadFunctionYaml(file)).toEqual(
      resolveFunctionText(sample('function-kedahttp-sample-serving.yaml'), file),
    );
    expect(loadFunctionYaml(file)).toMatchObject({ file, dir: fixtures.replace(/\/$/, '') });
  });
});

describe('the current limits: samples Sprout refuses locally', () => {
  it.each([
    [
      'unsupported/kafka-input.yaml',
      'spec.serving.scaleOptions.keda.scaledObject.advanced',
      /^\s+advanced:\s*$/,
      undefined,
    ],
    [
      'unsupported/function-subscriber.yaml',
      'spec.serving.scaleOptions.keda.scaledObject.advanced',
      /^\s+advanced:\s*$/,
      undefined,
    ],
    ['unsupported/cron-input-kafka-output.yaml', 'spec.serving.hooks', /^\s+hooks:\s*$/, undefined],
    ['unsupported/hello-world-node-esm.yaml', 'spec.serving.runtime', /^\s+runtime:/, undefined],
  ] as [string, string, RegExp, RegExp | undefined][])(
    '%s: SPROUT_ERR_SPEC_UNSUPPORTED_FIELD naming %s and its line',
    (rel, field, at, after) => {
      const text = sample(rel);
      const name = rel.split('/').pop()!;
      const err = refusal(() => resolveFunctionText(text, name));
      expect([err.code, err.field]).toEqual(['SPROUT_ERR_SPEC_UNSUPPORTED_FIELD', field]);
      expect(err.message).toBe(
        `${name}:${lineOf(text, at, after)}: field "${field}" is not supported by sprout dev and would change behaviour; remove it or run on Kubernetes`,
      );
    },
  );

  it('kafka-input without HPA behaviour: the kafka trigger names the types that run locally', () => {
    const text = editedSample('unsupported/kafka-input.yaml', (d) => {
      delete d.spec.serving.scaleOptions.keda.scaledObject.advanced;
    });
    const err = refusal(() => resolveFunctionText(text, 'kafka-input.yaml'));
    expect([err.code, err.field]).toEqual([
      'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
      'spec.serving.triggers.dapr.0.type',
    ]);
    expect(err.message).toMatch(
      new RegExp(
        `^kafka-input\\.yaml:${lineOf(text, /^\s+type: bindings\.kafka/, /^\s+dapr:/)}: field "spec\\.serving\\.triggers\\.dapr\\.0\\.type": component type "bindings\\.kafka" has no local engine; sprout dev runs pubsub\\.in-memory, .*bindings\\.cron`,
      ),
    );
  });
});

describe('fuzz', () => {
  const seeds = [
    'function-sample.yaml',
    'function-kedahttp-sample-serving.yaml',
    'with-output-binding-node.yaml',
    'async/async-pubsub.yaml',
    'async/async-bindings.yaml',
    'async/cron-input.yaml',
    'unsupported/cron-input-kafka-output.yaml',
    'unsupported/hello-world-node-esm.yaml',
  ].map(sample);

  it('mutated sample text only ever raises a SpecError whose message starts with the file name', () => {
    const rnd = prng(0xf00d);
    const counts = { accepted: 0, refused: 0 };
    timeBox(500, (i) => {
      const input = mutateTextSome(seeds[i % seeds.length]!, rnd);
      try {
        resolveFunctionText(input, 'fuzzed/function.yaml');
        counts.accepted++;
      } catch (err) {
        if (!(err instanceof SpecError))
          throw new Error(`not a SpecError for input ${JSON.stringify(input)}: ${String(err)}`);
        if (!err.message.startsWith('fuzzed/function.yaml'))
          throw new Error(`message without the file: ${err.message}`);
        expect(err.code).toMatch(/^SPROUT_ERR_SPEC_(INVALID_FUNCTION|UNSUPPORTED_FIELD|INVALID_COMPONENT)$/);
        counts.refused++;
      }
    });
    expect(counts.accepted).toBeGreaterThan(0);
    expect(counts.refused).toBeGreaterThan(0);
  });
});
