import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderFunction, type FunctionManifest } from './function.js';
import { renderHttpScaledObject, renderWorkload, usesKedaHttp } from './http-scaling.js';
import { vendoredCrdsDir } from './crds.js';
import { createManifestValidator } from './validate.js';

const crds = vendoredCrdsDir();
const validator = createManifestValidator(crds);
const sample = (name: string) =>
  parse(readFileSync(`${crds}/openfunction/samples/${name}`, 'utf8')) as FunctionManifest;

const annotated = parse(
  `apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: shop
  namespace: demo
  annotations:
    sprout.dev/scaling-metric: both
    sprout.dev/target-rate: "40"
    sprout.dev/rate-window: 30s
    sprout.dev/readiness-timeout: 10s
    sprout.dev/response-header-timeout: 5s
spec:
  version: v1.0.0
  image: registry.local/shop:1
  serving:
    params:
      FUNCTION_TARGET: shop
    triggers:
      http:
        engine: keda
        port: 8081
        route:
          hostnames: [shop.example.com]
          rules:
            - matches:
                - path: { type: PathPrefix, value: /cart }
                  headers: [{ name: x-tenant, value: a }]
                - path: { type: PathPrefix, value: /pay }
    scaleOptions:
      minReplicas: 1
      maxReplicas: 4
      keda:
        httpScaledObject:
          targetPendingRequests: 20
          cooldownPeriod: 90
    template:
      containers:
        - name: function
          imagePullPolicy: Always
          env: [{ name: MODE, value: prod }]
`,
) as FunctionManifest;

/** Validates a pod spec with the PodSpec schema OpenFunction's Function CRD embeds at serving.template. */
function podSpecIssues(podSpec: unknown): unknown[] {
  const fn: FunctionManifest = {
    apiVersion: 'core.openfunction.io/v1beta2',
    kind: 'Function',
    metadata: { name: 'podspec-check' },
    spec: { image: 'x', serving: { template: podSpec as Record<string, unknown> } },
  };
  return validator.validate(fn).issues;
}

describe('KEDA HTTP add-on rendering', () => {
  it('renders a valid HTTPScaledObject for the upstream keda HTTP sample', () => {
    const fn = sample('function-kedahttp-sample-serving.yaml');
    expect(usesKedaHttp(fn)).toBe(true);
    const hso = renderHttpScaledObject(fn);
    expect(validator.validate(hso).issues).toEqual([]);
    expect(hso).toMatchObject({
      apiVersion: 'http.keda.sh/v1alpha1',
      kind: 'HTTPScaledObject',
      metadata: { name: 'kedahttp-sample' },
      spec: {
        hosts: ['podinfo.com'],
        pathPrefixes: ['/'],
        scaleTargetRef: { name: 'kedahttp-sample', service: 'kedahttp-sample', port: 9898 },
        replicas: { min: 0, max: 10 },
        scaledownPeriod: 60,
        scalingMetric: { concurrency: { targetValue: 100 } },
      },
    });
  });

  it('carries routes, headers, scaling metric and timeouts from the Function and its annotations', () => {
    const hso = renderHttpScaledObject(annotated);
    expect(validator.validate(hso).issues).toEqual([]);
    expect(hso.metadata.namespace).toBe('demo');
    expect(hso.spec).toEqual({
      hosts: ['shop.example.com'],
      pathPrefixes: ['/cart', '/pay'],
      headers: [{ name: 'x-tenant', value: 'a' }],
      scaleTargetRef: {
        name: 'shop',
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        service: 'shop',
        port: 8081,
      },
      replicas: { min: 1, max: 4 },
      scaledownPeriod: 90,
      scalingMetric: {
        concurrency: { targetValue: 20 },
        requestRate: { targetValue: 40, window: '30s', granularity: '1s' },
      },
      timeouts: { conditionWait: '10s', responseHeader: '5s' },
    });
    expect(validator.validate(renderFunction({ name: 'shop', image: '', base: annotated })).issues).toEqual(
      [],
    );
  });

  it('renders a Deployment and Service the HTTPScaledObject targets', () => {
    const [deployment, service] = renderWorkload(annotated);
    const hso = renderHttpScaledObject(annotated);
    const ref = hso.spec.scaleTargetRef as { name: string; service: string; port: number };
    expect(deployment).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: ref.name },
    });
    expect(service).toMatchObject({ apiVersion: 'v1', kind: 'Service', metadata: { name: ref.service } });
    const dspec = deployment.spec as {
      replicas: number;
      selector: { matchLabels: Record<string, string> };
      template: {
        metadata: { labels: Record<string, string> };
        spec: { containers: Record<string, unknown>[] };
      };
    };
    expect(dspec.replicas).toBe(1);
    expect(dspec.template.metadata.labels).toEqual(dspec.selector.matchLabels);
    expect((service.spec as { selector: unknown }).selector).toEqual(dspec.selector.matchLabels);
    expect((service.spec as { ports: { port: number; targetPort: number }[] }).ports[0]).toMatchObject({
      port: ref.port,
      targetPort: 8081,
    });
    const [c] = dspec.template.spec.containers;
    expect(c).toMatchObject({ name: 'function', image: 'registry.local/shop:1', imagePullPolicy: 'Always' });
    expect(c!.env).toEqual(
      expect.arrayContaining([
        { name: 'MODE', value: 'prod' },
        { name: 'FUNCTION_TARGET', value: 'shop' },
        { name: 'PORT', value: '8081' },
      ]),
    );
    expect(podSpecIssues(dspec.template.spec)).toEqual([]);
    expect(podSpecIssues({ containers: [{ name: 'function', image: 'x', bogus: 1 }] })).not.toEqual([]);
  });

  it('starts a Deployment no scaler owns at max(1, minReplicas), and a KEDA-scaled one at minReplicas', () => {
    const replicas = (fn: FunctionManifest) => renderWorkload(fn)[0].spec.replicas;
    const withScale = (fn: FunctionManifest, scaleOptions: Record<string, unknown> | undefined) => {
      const serving = { ...(fn.spec.serving as Record<string, unknown>) };
      if (scaleOptions) serving.scaleOptions = scaleOptions;
      else delete serving.scaleOptions;
      return { ...fn, spec: { ...fn.spec, serving } } as FunctionManifest;
    };
    const plain = renderFunction({ name: 'hello', image: 'registry.local/hello:1' });
    expect(usesKedaHttp(plain)).toBe(false);
    expect(replicas(plain)).toBe(1);
    expect(replicas(withScale(plain, { minReplicas: 0, maxReplicas: 3 }))).toBe(1);
    expect(replicas(withScale(plain, { minReplicas: 2 }))).toBe(2);
    expect(replicas(sample('function-sample.yaml'))).toBe(1);
    // KEDA's HTTP add-on scales from zero: the count is its own.
    expect(replicas(withScale(annotated, { minReplicas: 0 }))).toBe(0);
    expect(replicas(withScale(annotated, undefined))).toBe(0);
    expect(replicas(withScale(annotated, { minReplicas: 2 }))).toBe(2);
  });

  it('does not take a knative or trigger-less Function for a keda one', () => {
    expect(usesKedaHttp(sample('function-sample.yaml'))).toBe(false);
    expect(usesKedaHttp(renderFunction({ name: 'x', image: 'y' }))).toBe(false);
  });
});
