import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createManifestValidator, vendoredCrdsDir } from '@sprout/kube';
import { runMain } from '../../test/main-io.js';

const crds = vendoredCrdsDir();
const greeter = fileURLToPath(new URL('../../../platform/test/fixtures/greeter', import.meta.url));
const hello = fileURLToPath(new URL('../../../../examples/hello', import.meta.url));
const validator = createManifestValidator(crds);

async function render(
  ...argv: string[]
): Promise<{ code: number; docs: Record<string, unknown>[]; err: string }> {
  const { code, out, err } = await runMain(['deploy', '--render', ...argv]);
  return { code, docs: parseAllDocuments(out).map((d) => d.toJS() as Record<string, unknown>), err };
}

const kinds = (docs: Record<string, unknown>[]) => docs.map((d) => d.kind);

describe('sprout deploy --render with a keda HTTP trigger', () => {
  it('emits the Function and the HTTPScaledObject, both valid against the CRDs', async () => {
    const r = await render(greeter, '--validate-against', crds);
    expect(r.code, r.err).toBe(0);
    expect(kinds(r.docs)).toEqual(['Function', 'HTTPScaledObject']);
    for (const d of r.docs) expect(validator.validate(d).issues).toEqual([]);
    expect(r.docs[1]).toMatchObject({
      spec: { hosts: ['greeter.local'], pathPrefixes: ['/greet'], replicas: { min: 0, max: 3 } },
    });
  });

  it('emits Deployment, Service and HTTPScaledObject with --without-openfunction', async () => {
    const r = await render(greeter, '--without-openfunction', '-n', 'demo', '--validate-against', crds);
    expect(r.code, r.err).toBe(0);
    expect(kinds(r.docs)).toEqual(['Deployment', 'Service', 'HTTPScaledObject']);
    const [deployment, service, hso] = r.docs as {
      metadata: { name: string; namespace: string };
      spec: never;
    }[];
    expect(validator.validate(hso).issues).toEqual([]);
    for (const d of [deployment, service, hso])
      expect(d!.metadata).toMatchObject({ name: 'greeter', namespace: 'demo' });
    expect(hso!.spec).toMatchObject({ scaleTargetRef: { name: 'greeter', service: 'greeter', port: 8080 } });
  });

  it('renders serving.states as Dapr Components, valid against the CRD, when rendering without OpenFunction', async () => {
    const stateful = fileURLToPath(new URL('../../test/fixtures/stateful', import.meta.url));
    const withOf = await render(stateful, '--validate-against', crds);
    expect(kinds(withOf.docs)).toEqual(['Function']); // OpenFunction creates the components itself
    const r = await render(stateful, '--without-openfunction', '-n', 'shop', '--validate-against', crds);
    expect(r.code, r.err).toBe(0);
    expect(kinds(r.docs)).toEqual(['Deployment', 'Service', 'Component']);
    const component = r.docs[2]!;
    expect(validator.validate(component).issues).toEqual([]);
    expect(component).toMatchObject({
      apiVersion: 'dapr.io/v1alpha1',
      metadata: { name: 'orders-db', namespace: 'shop' },
      spec: { type: 'state.redis', metadata: [{ name: 'redisHost', value: 'redis-master:6379' }] },
      scopes: ['stateful'],
    });
  });

  it('emits only the Function for a folder without a keda trigger', async () => {
    const r = await render(hello, '--image', 'registry.local/hello:1');
    expect(r.code, r.err).toBe(0);
    expect(kinds(r.docs)).toEqual(['Function']);
    const w = await render(hello, '--without-openfunction');
    expect(kinds(w.docs)).toEqual(['Deployment', 'Service']);
  });
});

describe('sprout deploy --render --without-openfunction replicas', () => {
  const replicas = (docs: Record<string, unknown>[]) =>
    (docs.find((d) => d.kind === 'Deployment')!.spec as { replicas: number }).replicas;

  it('starts at least one replica when no HTTPScaledObject scales the Deployment', async () => {
    const plain = await render(hello, '--without-openfunction', '--validate-against', crds);
    expect(plain.code, plain.err).toBe(0);
    expect(kinds(plain.docs)).toEqual(['Deployment', 'Service']);
    expect(replicas(plain.docs)).toBe(1);
    // minReplicas above one is kept; zero (or none) still starts one, since nothing would scale it up.
    const dir = mkdtempSync(join(tmpdir(), 'sprout-cli-deploy-replicas-'));
    writeFileSync(join(dir, 'index.js'), 'export const hello = (req, res) => res.send("hi");\n');
    const yaml = (min: number) => `apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata: { name: steady }
spec:
  version: v1.0.0
  image: registry.local/steady:1
  serving:
    params: { FUNCTION_TARGET: hello }
    triggers: { http: { port: 8080 } }
    scaleOptions: { minReplicas: ${min}, maxReplicas: 5 }
`;
    writeFileSync(join(dir, 'function.yaml'), yaml(2));
    const two = await render(dir, '--without-openfunction', '--validate-against', crds);
    expect(two.code, two.err).toBe(0);
    expect(kinds(two.docs)).toEqual(['Deployment', 'Service']);
    expect(replicas(two.docs)).toBe(2);
    writeFileSync(join(dir, 'function.yaml'), yaml(0));
    expect(replicas((await render(dir, '--without-openfunction')).docs)).toBe(1);
  });

  it('leaves the count at minReplicas (0 here) to the HTTPScaledObject with a keda trigger', async () => {
    const r = await render(greeter, '--without-openfunction', '--validate-against', crds);
    expect(r.code, r.err).toBe(0);
    expect(kinds(r.docs)).toEqual(['Deployment', 'Service', 'HTTPScaledObject']);
    expect(replicas(r.docs)).toBe(0);
    expect(r.docs[2]).toMatchObject({ spec: { replicas: { min: 0, max: 3 } } });
  });
});

describe('sprout deploy --render for an async function', () => {
  const orders = fileURLToPath(new URL('../../test/fixtures/async-orders', import.meta.url));
  const resources = fileURLToPath(new URL('../../test/fixtures/async-orders-resources', import.meta.url));

  it('emits the Function with serving.triggers.dapr and cluster scalers, plus the resources folder', async () => {
    const r = await render(orders, '--resources-path', resources, '-n', 'shop', '--validate-against', crds);
    expect(r.code, r.err).toBe(0);
    expect(kinds(r.docs)).toEqual(['Function', 'Component', 'Subscription']);
    for (const d of r.docs) expect(validator.validate(d).issues).toEqual([]);
    const serving = (r.docs[0] as { spec: { serving: Record<string, any> } }).spec.serving;
    expect(serving.triggers.dapr).toEqual([{ name: 'orders-bus', topic: 'orders.created' }]);
    expect(serving.scaleOptions.keda.triggers.map((t: { type: string }) => t.type)).toEqual([
      'nats-jetstream',
      'cron',
      'external',
    ]);
    expect(r.docs[2]).toMatchObject({
      apiVersion: 'dapr.io/v2alpha1',
      metadata: { name: 'big-orders', namespace: 'shop' },
      spec: { deadLetterTopic: 'orders.dead', routes: { rules: [{ path: '/big' }] } },
      scopes: ['async-orders'],
    });
  });

  it('emits Deployment with a Dapr sidecar, Components, Subscription and the KEDA ScaledObject without OpenFunction', async () => {
    const r = await render(
      orders,
      '--without-openfunction',
      '--resources-path',
      resources,
      '--validate-against',
      crds,
    );
    expect(r.code, r.err).toBe(0);
    expect(kinds(r.docs)).toEqual(['Deployment', 'Component', 'Component', 'Subscription', 'ScaledObject']);
    for (const d of r.docs.slice(1)) expect(validator.validate(d).issues).toEqual([]);
    const deployment = r.docs[0] as {
      spec: {
        replicas: number;
        template: {
          metadata: { annotations: Record<string, string> };
          spec: { containers: { env: { name: string; value: string }[] }[] };
        };
      };
    };
    expect(deployment.spec.replicas).toBe(0);
    expect(deployment.spec.template.metadata.annotations).toMatchObject({
      'dapr.io/enabled': 'true',
      'dapr.io/app-id': 'async-orders',
    });
    const ctx = JSON.parse(
      deployment.spec.template.spec.containers[0]!.env.find((e) => e.name === 'FUNC_CONTEXT')!.value,
    );
    expect(ctx.runtime).toMatch(/^async$/i);
    expect(Object.keys(ctx.inputs)).toEqual(['orders-bus']);
    expect(r.docs[1]).toMatchObject({
      metadata: { name: 'orders-bus' },
      spec: { type: 'pubsub.jetstream' },
      scopes: ['async-orders'],
    });
    expect(r.docs[4]).toMatchObject({
      kind: 'ScaledObject',
      spec: {
        scaleTargetRef: { name: 'async-orders', kind: 'Deployment' },
        pollingInterval: 5,
        cooldownPeriod: 60,
        minReplicaCount: 0,
        maxReplicaCount: 6,
        triggers: [
          { type: 'nats-jetstream' },
          { type: 'cron' },
          { type: 'external', metadata: { scalerAddress: 'sprout-mqtt-scaler.shop:9090' } },
        ],
      },
    });
  });

  it("emits the Dapr Resiliency documents the function uses (its resiliency.yaml, the folder's in scope), valid against the CRD", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-cli-deploy-resiliency-'));
    const fn = join(dir, 'async-orders');
    cpSync(orders, fn, { recursive: true });
    const resiliency = (name: string, extra = '') => `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: ${name}
${extra}spec:
  policies:
    timeouts:
      general: 5s
    retries:
      important:
        policy: constant
        duration: 5s
        maxRetries: 30
    circuitBreakers:
      busCB:
        maxRequests: 1
        timeout: 45s
        trip: consecutiveFailures > 8
  targets:
    components:
      orders-bus:
        inbound:
          timeout: general
          retry: important
          circuitBreaker: busCB
`;
    writeFileSync(join(fn, 'resiliency.yaml'), resiliency('own'));
    const folder = join(dir, 'resources');
    cpSync(resources, folder, { recursive: true });
    writeFileSync(join(folder, 'shared.yaml'), resiliency('shared'));
    writeFileSync(join(folder, 'elsewhere.yaml'), resiliency('elsewhere', 'scopes: [billing]\n'));
    const r = await render(fn, '--resources-path', folder, '-n', 'shop', '--validate-against', crds);
    expect(r.code, r.err).toBe(0);
    const docs = r.docs.filter((d) => d.kind === 'Resiliency');
    expect(docs.map((d) => (d.metadata as { name: string }).name)).toEqual(['shared', 'own']);
    for (const d of docs) {
      expect(validator.validate(d).issues).toEqual([]);
      expect(d).toMatchObject({
        apiVersion: 'dapr.io/v1alpha1',
        metadata: { namespace: 'shop' },
        scopes: ['async-orders'],
        spec: {
          policies: { retries: { important: { duration: '5s', maxRetries: 30 } } },
          targets: { components: { 'orders-bus': { inbound: { circuitBreaker: 'busCB' } } } },
        },
      });
    }
    // A Resiliency that cannot be read fails the render, naming the field.
    writeFileSync(
      join(fn, 'resiliency.yaml'),
      resiliency('own').replace('maxRequests: 1', 'maxRequests: one'),
    );
    const bad = await render(fn, '--resources-path', folder, '--validate-against', crds);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/maxRequests/);
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses Sprout's mqtt scaler without scalerAddress with a coded error", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-cli-deploy-mqtt-'));
    writeFileSync(join(dir, 'index.js'), 'export const handle = async (ctx, data) => data;\n');
    writeFileSync(
      join(dir, 'function.yaml'),
      `apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata: { name: sensors }
spec:
  version: v1.0.0
  image: registry.local/sensors:1
  serving:
    triggers: { dapr: [{ name: sensors, type: pubsub.mqtt3, topic: s }] }
    scaleOptions: { keda: { triggers: [{ type: mqtt, metadata: { topic: s } }] } }
`,
    );
    const r = await render(dir, '--without-openfunction');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/SPROUT_ERR_KUBE_RENDER_UNSUPPORTED/);
    expect(r.err).toMatch(/scalerAddress/);
  });

  it("with --mqtt-scaler-image renders Sprout's scaler beside the function and points the external trigger at it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-cli-deploy-mqtt-'));
    writeFileSync(join(dir, 'index.js'), 'export const handle = async (ctx, data) => data;\n');
    writeFileSync(
      join(dir, 'function.yaml'),
      `apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata: { name: sensors, namespace: plant }
spec:
  version: v1.0.0
  image: registry.local/sensors:1
  serving:
    pubsub:
      sensors:
        type: pubsub.mqtt3
        version: v1
        metadata: [{ name: url, value: 'tcp://mosquitto.plant:1883' }]
    triggers: { dapr: [{ name: sensors, topic: s }] }
    scaleOptions: { keda: { triggers: [{ type: mqtt, metadata: { topic: s, targetValue: '5' } }] } }
`,
    );
    const trigger = {
      type: 'external',
      metadata: {
        topic: 's',
        targetValue: '5',
        scalerAddress: 'sensors-mqtt-scaler.plant.svc:9090',
        url: 'tcp://mosquitto.plant:1883',
      },
    };
    const image = ['--mqtt-scaler-image', 'registry.local/sprout:1', '--validate-against', crds];
    const without = await render(dir, '--without-openfunction', ...image);
    expect(without.code, without.err).toBe(0);
    expect(kinds(without.docs)).toEqual(['Deployment', 'Component', 'ScaledObject', 'Deployment', 'Service']);
    expect(without.docs[2]).toMatchObject({ spec: { triggers: [trigger] } });
    expect(validator.validate(without.docs[2]!).issues).toEqual([]);
    expect(without.docs[3]).toMatchObject({
      metadata: { name: 'sensors-mqtt-scaler', namespace: 'plant' },
      spec: {
        template: {
          spec: {
            containers: [
              {
                image: 'registry.local/sprout:1',
                args: ['triggers', 'mqtt-scaler', '--listen-address', '0.0.0.0', '--port', '9090'],
              },
            ],
          },
        },
      },
    });
    expect(without.docs[4]).toMatchObject({
      metadata: { name: 'sensors-mqtt-scaler', namespace: 'plant' },
      spec: { ports: [{ port: 9090, targetPort: 'grpc' }] },
    });
    const withOf = await render(dir, ...image);
    expect(withOf.code, withOf.err).toBe(0);
    expect(kinds(withOf.docs)).toEqual(['Function', 'Deployment', 'Service']);
    expect(withOf.docs[0]).toMatchObject({
      spec: { serving: { scaleOptions: { keda: { triggers: [trigger] } } } },
    });
    expect(validator.validate(withOf.docs[0]!).issues).toEqual([]);

    // TLS between KEDA and the scaler: the Secret mounted and passed to the scaler, enableTLS on
    // the trigger, and a TriggerAuthentication with KEDA's caCert / tlsClientCert / tlsClientKey.
    const tls = [
      ...image,
      '--mqtt-scaler-tls-secret',
      'scaler-tls',
      '--mqtt-scaler-client-secret',
      'keda-client',
    ];
    const tlsOf = await render(dir, '--without-openfunction', ...tls);
    expect(tlsOf.code, tlsOf.err).toBe(0);
    expect(kinds(tlsOf.docs)).toEqual([
      'Deployment',
      'Component',
      'ScaledObject',
      'Deployment',
      'Service',
      'TriggerAuthentication',
    ]);
    const crdKinds = new Set(validator.kinds());
    const crdDocs = (docs: Record<string, unknown>[]) =>
      docs.filter((d) => crdKinds.has(`${d.apiVersion}/${d.kind}`));
    expect(crdDocs(tlsOf.docs).map((d) => d.kind)).toEqual([
      'Component',
      'ScaledObject',
      'TriggerAuthentication',
    ]);
    for (const d of crdDocs(tlsOf.docs)) expect(validator.validate(d).issues).toEqual([]);
    const tlsTrigger = {
      ...trigger,
      metadata: { ...trigger.metadata, enableTLS: 'true' },
      authenticationRef: { name: 'sensors-mqtt-scaler-tls' },
    };
    expect(tlsOf.docs[2]).toMatchObject({ spec: { triggers: [tlsTrigger] } });
    const dir0 = '/etc/sprout/mqtt-scaler-tls';
    expect(tlsOf.docs[3]).toMatchObject({
      spec: {
        template: {
          spec: {
            containers: [
              {
                args: [
                  ...['triggers', 'mqtt-scaler', '--listen-address', '0.0.0.0', '--port', '9090'],
                  ...['--tls-cert', `${dir0}/tls.crt`, '--tls-key', `${dir0}/tls.key`],
                  ...['--tls-client-ca', `${dir0}/ca.crt`],
                ],
                volumeMounts: [{ name: 'tls', mountPath: dir0, readOnly: true }],
              },
            ],
            volumes: [{ name: 'tls', secret: { secretName: 'scaler-tls' } }],
          },
        },
      },
    });
    expect(tlsOf.docs[5]).toEqual({
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'TriggerAuthentication',
      metadata: {
        name: 'sensors-mqtt-scaler-tls',
        namespace: 'plant',
        labels: { 'app.kubernetes.io/name': 'sensors-mqtt-scaler', 'app.kubernetes.io/managed-by': 'sprout' },
      },
      spec: {
        secretTargetRef: [
          { parameter: 'caCert', name: 'scaler-tls', key: 'ca.crt' },
          { parameter: 'tlsClientCert', name: 'keda-client', key: 'tls.crt' },
          { parameter: 'tlsClientKey', name: 'keda-client', key: 'tls.key' },
        ],
      },
    });
    const tlsWithOf = await render(dir, ...tls);
    expect(tlsWithOf.code, tlsWithOf.err).toBe(0);
    expect(kinds(tlsWithOf.docs)).toEqual(['Function', 'Deployment', 'Service', 'TriggerAuthentication']);
    expect(tlsWithOf.docs[0]).toMatchObject({
      spec: { serving: { scaleOptions: { keda: { triggers: [tlsTrigger] } } } },
    });
    for (const d of crdDocs(tlsWithOf.docs)) expect(validator.validate(d).issues).toEqual([]);
    // Server TLS alone: no client certificate asked for, KEDA gets the CA only.
    const serverOnly = await render(
      dir,
      '--without-openfunction',
      ...image,
      '--mqtt-scaler-tls-secret',
      'scaler-tls',
    );
    expect(serverOnly.code, serverOnly.err).toBe(0);
    expect(serverOnly.docs[3]).not.toMatchObject({
      spec: { template: { spec: { containers: [{ args: expect.arrayContaining(['--tls-client-ca']) }] } } },
    });
    expect((serverOnly.docs[5] as { spec: unknown }).spec).toEqual({
      secretTargetRef: [{ parameter: 'caCert', name: 'scaler-tls', key: 'ca.crt' }],
    });
    // A TLS Secret without the scaler, or a client Secret without TLS, is a usage error.
    expect((await render(dir, '--mqtt-scaler-tls-secret', 'scaler-tls')).code).toBe(2);
    expect((await render(dir, ...image, '--mqtt-scaler-client-secret', 'keda-client')).code).toBe(2);
  });
});

describe('sprout deploy --render for a function with spec.build', () => {
  const folder = (build: string, image = '  image: registry.example.com/team/builder-fn:1\n') => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-cli-deploy-build-'));
    writeFileSync(join(dir, 'index.js'), 'export const hello = (req, res) => res.send("hi");\n');
    writeFileSync(
      join(dir, 'function.yaml'),
      `apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata: { name: builder-fn, namespace: apps }
spec:
  version: v1.0.0
${image}  imageCredentials: { name: push-secret }
  build:
${build}  serving:
    params: { FUNCTION_TARGET: hello }
    triggers: { http: { port: 8080 } }
`,
    );
    return dir;
  };

  it('emits the Function (spec.build kept), a Shipwright Build and BuildRun, all valid against the CRDs', async () => {
    const dir = folder(`    builder: openfunction/builder-node:v2-18
    env: { FUNC_NAME: hello }
    srcRepo:
      url: https://git.example.com/team/fns.git
      revision: v1.2
      sourceSubPath: functions/hello
`);
    const r = await render(dir, '--validate-against', crds);
    expect(r.code, r.err).toBe(0);
    expect(kinds(r.docs)).toEqual(['Function', 'Build', 'BuildRun']);
    for (const d of r.docs) expect(validator.validate(d).issues).toEqual([]);
    expect(r.docs[0]).toMatchObject({ spec: { build: { srcRepo: { revision: 'v1.2' } } } });
    expect(r.docs[1]).toMatchObject({
      metadata: { name: 'builder-fn-build', namespace: 'apps' },
      spec: {
        source: {
          type: 'Git',
          git: { url: 'https://git.example.com/team/fns.git', revision: 'v1.2' },
          contextDir: 'functions/hello',
        },
        strategy: { name: 'buildpacks-v3', kind: 'ClusterBuildStrategy' },
        output: { image: 'registry.example.com/team/builder-fn:1', pushSecret: 'push-secret' },
        env: [{ name: 'FUNC_NAME', value: 'hello' }],
      },
    });
    expect(r.docs[2]).toMatchObject({ spec: { build: { name: 'builder-fn-build' } } });
    expect(r.err).toMatch(/function\.yaml:9: builder openfunction\/builder-node:v2-18 is kept/);
    const flagged = await render(dir, '--push-secret', 'other', '--without-openfunction');
    expect(kinds(flagged.docs)).toEqual(['Deployment', 'Service', 'Build', 'BuildRun']);
    expect(flagged.docs[2]).toMatchObject({ spec: { output: { pushSecret: 'other' } } });
  });

  it('refuses a shape the buildpacks strategy cannot build, naming the file, line and field', async () => {
    const dir = folder(`    dockerfile: Dockerfile
    srcRepo: { url: https://git.example.com/team/fns.git }
`);
    const r = await render(dir);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(`${join(dir, 'function.yaml')}:9: field "spec.build.dockerfile"`);
    expect(r.err).toMatch(/SPROUT_ERR_KUBE_RENDER_UNSUPPORTED|without a Dockerfile/);
    const noImage = await render(folder('    srcRepo: { url: https://git.example.com/a.git }\n', ''));
    expect(noImage.code).not.toBe(0);
    expect(noImage.err).toMatch(/function\.yaml:\d+: field "spec\.image": Shipwright pushes/);
    const missing = await render(folder('    env: { A: "1" }\n'), '--validate-against', crds);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(/srcRepo/); // OpenFunction's CRD requires spec.build.srcRepo
  });
});
