import { KubeError } from './errors.js';
import type { FunctionManifest } from './function.js';
import { functionPort, meta, renderDeployment, type KubeObject } from './http-scaling.js';

export const SCALED_OBJECT_API_VERSION = 'keda.sh/v1alpha1';

type Json = Record<string, unknown>;

interface KedaTrigger {
  type: string;
  name?: string;
  metadata?: Record<string, unknown>;
  metricType?: string;
  useCachedMetrics?: boolean;
}

interface AsyncScaleOptions {
  minReplicas?: number;
  maxReplicas?: number;
  keda?: { scaledObject?: { pollingInterval?: number; cooldownPeriod?: number }; triggers?: KedaTrigger[] };
}

const serving = (fn: FunctionManifest) => (fn.spec.serving ?? {}) as Json;
const scaleOptions = (fn: FunctionManifest) => (serving(fn).scaleOptions ?? {}) as AsyncScaleOptions;

/**
 * True for an async function: one with `serving.triggers.dapr` inputs or KEDA event triggers
 * (`scaleOptions.keda.triggers`), which OpenFunction runs behind a Dapr sidecar and KEDA scales.
 */
export function isAsyncFunction(fn: FunctionManifest): boolean {
  const triggers = serving(fn).triggers as { dapr?: unknown[] } | undefined;
  return (triggers?.dapr?.length ?? 0) > 0 || (scaleOptions(fn).keda?.triggers?.length ?? 0) > 0;
}

/** The gRPC port of Sprout's MQTT scaler (`sprout triggers mqtt-scaler`) in a cluster. */
export const MQTT_SCALER_PORT = 9090;

/** Sprout's MQTT scaler rendered beside a function (see `renderMqttScaler`). */
export interface MqttScalerInput {
  /** An image with the `sprout` command in it. */
  image: string;
  /**
   * TLS between KEDA and the scaler. `secret`: a `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`,
   * `ca.crt`, as cert-manager writes one) with the scaler's certificate, valid for
   * `<function>-mqtt-scaler.<namespace>.svc`; KEDA trusts its `ca.crt`. `clientSecret`: KEDA's client
   * certificate (its `tls.crt`/`tls.key`), whereupon the scaler lets in only certificates of the
   * server Secret's `ca.crt`.
   */
  tls?: { secret: string; clientSecret?: string };
}

const scalerName = (fn: FunctionManifest) => `${fn.metadata.name}-mqtt-scaler`;
/** Where the scaler's Deployment mounts its TLS Secret. */
const TLS_DIR = '/etc/sprout/mqtt-scaler-tls';

/** The in-cluster address of the scaler `renderMqttScaler` renders for `fn`. */
function scalerAddress(fn: FunctionManifest): string {
  return `${scalerName(fn)}.${fn.metadata.namespace ?? 'default'}.svc:${MQTT_SCALER_PORT}`;
}

/** The `url` of the function's MQTT component (pub/sub or binding), if it gives one as a value. */
function mqttBrokerUrl(fn: FunctionManifest): string | undefined {
  const s = serving(fn);
  for (const group of [s.pubsub, s.bindings] as (Record<string, Json> | undefined)[])
    for (const c of Object.values(group ?? {})) {
      if (!/^(pubsub|bindings)\.mqtt3?$/.test(String(c.type))) continue;
      const item = ((c.metadata ?? []) as { name?: string; value?: unknown }[]).find((m) => m.name === 'url');
      if (item?.value !== undefined) return String(item.value);
    }
  return undefined;
}

/**
 * A KEDA trigger as a cluster runs it: metadata values as strings (KEDA's map of strings), and
 * Sprout's own `mqtt` scaler as KEDA's `external` scaler. Its `scalerAddress` is the trigger's own,
 * else (with `scaler`) the address of the scaler `renderMqttScaler` renders beside the function, and
 * the trigger gets the broker `url` of the function's MQTT component when it names none.
 */
function kedaTrigger(t: KedaTrigger, i: number, fn: FunctionManifest, scaler?: MqttScalerInput): Json {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(t.metadata ?? {})) metadata[k] = String(v);
  const rest: Json = {};
  if (t.name !== undefined) rest.name = t.name;
  if (t.metricType !== undefined) rest.metricType = t.metricType;
  if (t.useCachedMetrics !== undefined) rest.useCachedMetrics = t.useCachedMetrics;
  if (t.type !== 'mqtt') return { type: t.type, ...rest, metadata };
  if (!metadata.scalerAddress && !scaler)
    throw new KubeError(
      'SPROUT_ERR_KUBE_RENDER_UNSUPPORTED',
      `serving.scaleOptions.keda.triggers[${i}]: the mqtt scaler is Sprout's own; on a cluster it runs as KEDA's ` +
        "external scaler: give its metadata a scalerAddress (host:port of an external scaler's gRPC service), " +
        "or render Sprout's scaler beside the function (sprout deploy --mqtt-scaler-image REF)",
      { field: `spec.serving.scaleOptions.keda.triggers[${i}].metadata.scalerAddress` },
    );
  if (!metadata.scalerAddress) {
    metadata.scalerAddress = scalerAddress(fn);
    const url = metadata.url ?? mqttBrokerUrl(fn);
    if (!url)
      throw new KubeError(
        'SPROUT_ERR_KUBE_RENDER_UNSUPPORTED',
        `serving.scaleOptions.keda.triggers[${i}]: Sprout's mqtt scaler needs the broker: give the trigger a url, ` +
          'or the function an MQTT component with a url value',
        { field: `spec.serving.scaleOptions.keda.triggers[${i}].metadata.url` },
      );
    metadata.url = url;
    if (scaler?.tls) {
      // KEDA's external scaler: enableTLS in the metadata, caCert/tlsClientCert/tlsClientKey from
      // the TriggerAuthentication renderMqttScaler writes.
      metadata.enableTLS = 'true';
      rest.authenticationRef = { name: `${scalerName(fn)}-tls` };
    }
  }
  return { type: 'external', ...rest, metadata };
}

/** True when the function has an mqtt trigger with no scalerAddress of its own (it needs Sprout's scaler). */
export function needsMqttScaler(fn: FunctionManifest): boolean {
  return (scaleOptions(fn).keda?.triggers ?? []).some((t) => t.type === 'mqtt' && !t.metadata?.scalerAddress);
}

/**
 * Sprout's MQTT scaler for a cluster: a Deployment running `sprout triggers mqtt-scaler` on
 * `MQTT_SCALER_PORT` (all addresses; plaintext gRPC as KEDA calls external scalers by default, TLS
 * with `scaler.tls`) and its Service, named `<function>-mqtt-scaler`, which the function's
 * `external` triggers point at; with TLS also the TriggerAuthentication `<function>-mqtt-scaler-tls`
 * that gives KEDA the CA (and its client certificate). Empty when no trigger needs it.
 */
export function renderMqttScaler(fn: FunctionManifest, scaler: MqttScalerInput): KubeObject[] {
  if (!needsMqttScaler(fn)) return [];
  const name = scalerName(fn);
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/managed-by': 'sprout' };
  const metadata = { name, labels, ...(fn.metadata.namespace ? { namespace: fn.metadata.namespace } : {}) };
  const port = { name: 'grpc', containerPort: MQTT_SCALER_PORT, protocol: 'TCP' };
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata,
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'mqtt-scaler',
              image: scaler.image,
              args: [
                'triggers',
                'mqtt-scaler',
                '--listen-address',
                '0.0.0.0',
                '--port',
                String(MQTT_SCALER_PORT),
                ...(scaler.tls ? tlsArgs(scaler.tls) : []),
              ],
              ports: [port],
              readinessProbe: { tcpSocket: { port: 'grpc' } },
              ...(scaler.tls ? { volumeMounts: [{ name: 'tls', mountPath: TLS_DIR, readOnly: true }] } : {}),
            },
          ],
          ...(scaler.tls ? { volumes: [{ name: 'tls', secret: { secretName: scaler.tls.secret } }] } : {}),
        },
      },
    },
  };
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec: {
      selector: { 'app.kubernetes.io/name': name },
      ports: [
        { name: 'grpc', port: MQTT_SCALER_PORT, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' },
      ],
    },
  };
  return scaler.tls
    ? [deployment, service, triggerAuthentication(name, metadata, scaler.tls)]
    : [deployment, service];
}

function tlsArgs(tls: NonNullable<MqttScalerInput['tls']>): string[] {
  const args = ['--tls-cert', `${TLS_DIR}/tls.crt`, '--tls-key', `${TLS_DIR}/tls.key`];
  return tls.clientSecret ? [...args, '--tls-client-ca', `${TLS_DIR}/ca.crt`] : args;
}

/** KEDA's TriggerAuthentication for the external scaler's TLS: caCert, and tlsClientCert/Key with a client Secret. */
function triggerAuthentication(
  name: string,
  metadata: Json,
  tls: NonNullable<MqttScalerInput['tls']>,
): KubeObject {
  const ref = (parameter: string, secret: string, key: string) => ({ parameter, name: secret, key });
  return {
    apiVersion: SCALED_OBJECT_API_VERSION,
    kind: 'TriggerAuthentication',
    metadata: { ...metadata, name: `${name}-tls` },
    spec: {
      secretTargetRef: [
        ref('caCert', tls.secret, 'ca.crt'),
        ...(tls.clientSecret
          ? [
              ref('tlsClientCert', tls.clientSecret, 'tls.crt'),
              ref('tlsClientKey', tls.clientSecret, 'tls.key'),
            ]
          : []),
      ],
    },
  };
}

/**
 * Renders KEDA's ScaledObject (keda.sh/v1alpha1) for an async function run without OpenFunction:
 * the Deployment named after the function as scale target, `minReplicas`/`maxReplicas` as
 * `minReplicaCount`/`maxReplicaCount` (KEDA's defaults 0 and 100 when unset),
 * `keda.scaledObject.pollingInterval`/`cooldownPeriod`, and `keda.triggers` with KEDA's own scaler
 * types (nats-jetstream, redis-streams, rabbitmq, cron; Sprout's mqtt as external). With
 * OpenFunction the Function carries the same fields and OpenFunction renders the ScaledObject.
 *
 * @example
 * renderScaledObject(loadFunctionDir('fn').manifest); // loadFunctionDir from @sprout/spec
 */
export function renderScaledObject(fn: FunctionManifest, scaler?: MqttScalerInput): KubeObject {
  const so = scaleOptions(fn);
  const scaled = so.keda?.scaledObject ?? {};
  const spec: Json = {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: fn.metadata.name },
    ...(scaled.pollingInterval !== undefined ? { pollingInterval: scaled.pollingInterval } : {}),
    ...(scaled.cooldownPeriod !== undefined ? { cooldownPeriod: scaled.cooldownPeriod } : {}),
    minReplicaCount: so.minReplicas ?? 0,
    maxReplicaCount: so.maxReplicas ?? 100,
    triggers: (so.keda?.triggers ?? []).map((t, i) => kedaTrigger(t, i, fn, scaler)),
  };
  return { apiVersion: SCALED_OBJECT_API_VERSION, kind: 'ScaledObject', metadata: meta(fn), spec };
}

/**
 * The Function as a cluster's OpenFunction and KEDA take it: `scaleOptions.keda.triggers` as
 * `renderScaledObject` writes them (metadata as strings, Sprout's mqtt as KEDA's external scaler).
 */
export function withClusterScalers(fn: FunctionManifest, scaler?: MqttScalerInput): FunctionManifest {
  const so = scaleOptions(fn);
  if (!so.keda?.triggers?.length) return fn;
  const keda = { ...so.keda, triggers: so.keda.triggers.map((t, i) => kedaTrigger(t, i, fn, scaler)) };
  return { ...fn, spec: { ...fn.spec, serving: { ...serving(fn), scaleOptions: { ...so, keda } } } };
}

/**
 * The Deployment an async function runs as without OpenFunction: the function container with the
 * given FUNC_CONTEXT (runtime Async, inputs and outputs, as OpenFunction derives it) beside a Dapr
 * sidecar (`dapr.io/enabled`, `app-id` the function's name, `app-port`, `app-protocol: http`, and
 * the Function's `serving.annotations`). It starts at `minReplicas`; the ScaledObject owns the count.
 */
export function renderAsyncWorkload(fn: FunctionManifest, funcContext: object): KubeObject {
  const own = (serving(fn).annotations ?? {}) as Record<string, string>;
  return renderDeployment(fn, {
    funcContext,
    replicas: scaleOptions(fn).minReplicas ?? 0,
    podAnnotations: {
      'dapr.io/enabled': 'true',
      'dapr.io/app-id': fn.metadata.name,
      'dapr.io/app-port': String(functionPort(fn)),
      'dapr.io/app-protocol': 'http',
      ...Object.fromEntries(Object.entries(own).map(([k, v]) => [k, String(v)])),
    },
  });
}

/** A Dapr declarative Subscription as read from a resources folder (v2alpha1, or converted to it). */
export interface SubscriptionInput {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  spec: Json;
  scopes?: string[];
}

/** A validated Dapr Resiliency (`@sprout/spec`'s `ResiliencyDocument`): its name, scopes and spec as written. */
export interface ResiliencyInput {
  name: string;
  namespace?: string;
  scopes?: string[];
  spec: Json;
}

/** Dapr's Resiliency API version, the one `@sprout/spec` reads. */
const RESILIENCY_API_VERSION = 'dapr.io/v1alpha1';

/**
 * Renders a Dapr Resiliency for `kubectl apply`: its spec as written (policies and targets), in
 * `namespace` unless it names its own, scoped to `scopes` unless it has its own.
 */
export function renderResiliency(
  doc: ResiliencyInput,
  o: { namespace?: string; scopes?: string[] } = {},
): KubeObject & { scopes?: string[] } {
  return renderSubscription(
    {
      apiVersion: RESILIENCY_API_VERSION,
      kind: 'Resiliency',
      metadata: { name: doc.name, ...(doc.namespace ? { namespace: doc.namespace } : {}) },
      spec: doc.spec,
      ...(doc.scopes ? { scopes: doc.scopes } : {}),
    },
    o,
  );
}

/**
 * Renders a Dapr Subscription for `kubectl apply`: as written (routes, rules, deadLetterTopic,
 * bulkSubscribe), in `namespace` unless it names its own, scoped to `scopes` unless it has its own.
 */
export function renderSubscription(
  sub: SubscriptionInput,
  o: { namespace?: string; scopes?: string[] } = {},
): KubeObject & {
  scopes?: string[];
} {
  const namespace = sub.metadata.namespace ?? o.namespace;
  const scopes = sub.scopes ?? o.scopes;
  return {
    apiVersion: sub.apiVersion,
    kind: sub.kind,
    metadata: {
      name: sub.metadata.name,
      ...(namespace ? { namespace } : {}),
      labels: { 'app.kubernetes.io/managed-by': 'sprout' },
    },
    spec: sub.spec,
    ...(scopes?.length ? { scopes } : {}),
  };
}
