import type { FunctionManifest } from './function.js';

export const HTTP_SCALED_OBJECT_API_VERSION = 'http.keda.sh/v1alpha1';

/** The annotation prefix for knobs OpenFunction's Function lacks (shared with `sprout dev`). */
const ANNOTATION = 'sprout.dev/';

type Json = Record<string, unknown>;

/** A plain Kubernetes object as rendered here. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: Json;
}

interface HttpTrigger {
  engine?: string;
  port?: number;
  route?: {
    hostnames?: string[];
    rules?: { matches?: { path?: { value?: string }; headers?: { name: string; value: string }[] }[] }[];
  };
}

interface ScaleOptions {
  minReplicas?: number;
  maxReplicas?: number;
  keda?: { httpScaledObject?: { targetPendingRequests?: number; cooldownPeriod?: number } };
}

const serving = (fn: FunctionManifest) => (fn.spec.serving ?? {}) as Json;
const httpTrigger = (fn: FunctionManifest) =>
  ((serving(fn).triggers as Json | undefined)?.http as HttpTrigger | undefined) ?? undefined;

/** True when the Function has an HTTP trigger on the keda engine (OpenFunction `triggers.http.engine: keda`). */
export function usesKedaHttp(fn: FunctionManifest): boolean {
  return httpTrigger(fn)?.engine === 'keda';
}

/** The port the function container listens on (`triggers.http.port`, default 8080). */
export function functionPort(fn: FunctionManifest): number {
  return httpTrigger(fn)?.port ?? 8080;
}

/**
 * Renders KEDA's HTTPScaledObject (http.keda.sh/v1alpha1) for a Function with a keda HTTP trigger:
 * hosts and path prefixes from `triggers.http.route`, replicas and `scaledownPeriod` from
 * `scaleOptions`, and the `sprout.dev/` annotations (scaling metric, rate window, timeouts).
 * The scale target is the Deployment and Service named after the function (see `renderWorkload`).
 *
 * @example
 * renderHttpScaledObject(loadFunctionDir('fn').manifest); // loadFunctionDir from @sprout/spec
 */
export function renderHttpScaledObject(fn: FunctionManifest): KubeObject {
  const name = fn.metadata.name;
  const http = httpTrigger(fn) ?? {};
  const so = (serving(fn).scaleOptions ?? {}) as ScaleOptions;
  const hso = so.keda?.httpScaledObject ?? {};
  const ann = fn.metadata.annotations ?? {};
  const hosts = http.route?.hostnames ?? [];
  const prefixes: string[] = [];
  const headers: { name: string; value: string }[] = [];
  for (const rule of http.route?.rules ?? []) {
    for (const m of rule.matches ?? []) {
      if (m.path?.value && !prefixes.includes(m.path.value)) prefixes.push(m.path.value);
      for (const h of m.headers ?? []) headers.push({ name: h.name, value: h.value });
    }
  }
  const metric = ann[`${ANNOTATION}scaling-metric`] ?? 'concurrency';
  const scalingMetric: Json = {};
  if (metric === 'concurrency' || metric === 'both') {
    scalingMetric.concurrency = { targetValue: hso.targetPendingRequests ?? 100 };
  }
  if (metric === 'requestRate' || metric === 'both') {
    scalingMetric.requestRate = {
      targetValue: Number(ann[`${ANNOTATION}target-rate`] ?? 100),
      window: ann[`${ANNOTATION}rate-window`] ?? '1m',
      granularity: ann[`${ANNOTATION}rate-granularity`] ?? '1s',
    };
  }
  const timeouts: Json = {};
  if (ann[`${ANNOTATION}readiness-timeout`]) timeouts.conditionWait = ann[`${ANNOTATION}readiness-timeout`];
  if (ann[`${ANNOTATION}response-header-timeout`]) {
    timeouts.responseHeader = ann[`${ANNOTATION}response-header-timeout`];
  }
  const spec: Json = {
    ...(hosts.length ? { hosts } : {}),
    ...(prefixes.length ? { pathPrefixes: prefixes } : {}),
    ...(headers.length ? { headers } : {}),
    scaleTargetRef: {
      name,
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      service: name,
      port: functionPort(fn),
    },
    replicas: { min: so.minReplicas ?? 0, max: so.maxReplicas ?? 10 },
    ...(hso.cooldownPeriod !== undefined ? { scaledownPeriod: hso.cooldownPeriod } : {}),
    scalingMetric,
    ...(Object.keys(timeouts).length ? { timeouts } : {}),
  };
  return {
    apiVersion: HTTP_SCALED_OBJECT_API_VERSION,
    kind: 'HTTPScaledObject',
    metadata: meta(fn),
    spec,
  };
}

/** Name, namespace and Sprout's labels for an object rendered for `fn`. */
export function meta(fn: FunctionManifest): KubeObject['metadata'] {
  const m: KubeObject['metadata'] = {
    name: fn.metadata.name,
    labels: { 'app.kubernetes.io/name': fn.metadata.name, 'app.kubernetes.io/managed-by': 'sprout' },
  };
  if (fn.metadata.namespace) m.namespace = fn.metadata.namespace;
  return m;
}

/**
 * Renders the Deployment and Service that run a Function without OpenFunction (for KEDA's HTTP
 * add-on to scale): the Function's image, `serving.params` and the `function` container's env as
 * environment, FUNC_CONTEXT from the serving block, and the HTTP port. With a keda HTTP trigger the
 * Deployment starts at `minReplicas` (0 by default) and KEDA's HTTPScaledObject owns the count
 * afterwards; without one nothing scales it, so it runs `max(1, minReplicas)` replicas.
 */
export function renderWorkload(fn: FunctionManifest): [KubeObject, KubeObject] {
  const name = fn.metadata.name;
  const port = functionPort(fn);
  const so = (serving(fn).scaleOptions ?? {}) as ScaleOptions;
  const context = { name, version: fn.spec.version ?? 'v1.0.0', runtime: 'knative', port: String(port) };
  const deployment = renderDeployment(fn, {
    funcContext: context,
    replicas: usesKedaHttp(fn) ? (so.minReplicas ?? 0) : Math.max(1, so.minReplicas ?? 0),
  });
  const labels = { 'app.kubernetes.io/name': name };
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(fn),
    spec: { selector: { ...labels }, ports: [{ name: 'http', port, targetPort: port, protocol: 'TCP' }] },
  };
  return [deployment, service];
}

/**
 * The Deployment a Function runs as without OpenFunction: the Function's image, `serving.params` and
 * the `function` container's env as environment, PORT and the given FUNC_CONTEXT, the HTTP port,
 * and `podAnnotations` on the pod template (a Dapr sidecar's, for an async function).
 */
export function renderDeployment(
  fn: FunctionManifest,
  o: { funcContext: object; replicas: number; podAnnotations?: Record<string, string> },
): KubeObject {
  const name = fn.metadata.name;
  const s = serving(fn);
  const port = functionPort(fn);
  const template = (s.template ?? {}) as { containers?: Json[] } & Json;
  const containers = template.containers ?? [];
  const base = containers.find((c) => c.name === 'function') ?? {};
  const params = (s.params ?? {}) as Record<string, string>;
  const env = [
    ...((base.env as { name: string }[] | undefined) ?? []).filter((e) => !(e.name in params)),
    ...Object.entries(params).map(([k, v]) => ({ name: k, value: v })),
    { name: 'PORT', value: String(port) },
    { name: 'FUNC_CONTEXT', value: JSON.stringify(o.funcContext) },
  ];
  const container: Json = {
    ...base,
    name: 'function',
    image: fn.spec.image,
    ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
    env,
    readinessProbe: { tcpSocket: { port } },
  };
  const labels = { 'app.kubernetes.io/name': name };
  const annotations = o.podAnnotations && Object.keys(o.podAnnotations).length ? o.podAnnotations : undefined;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(fn),
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: { ...labels } },
      template: {
        metadata: { labels: { ...labels }, ...(annotations ? { annotations } : {}) },
        spec: {
          ...template,
          containers: [container, ...containers.filter((c) => c !== base && c.name !== 'function')],
        },
      },
    },
  };
}
