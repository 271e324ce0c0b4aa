import type { ComponentDocument } from './component.js';
import type { FunctionContext } from './context.js';
import type { FunctionDocument } from './function-schema.js';
import type { ResiliencyDocument } from './resiliency.js';

/** One routing rule of a function: hosts (empty = any), a path prefix, optional exact header values. */
export interface RouteRule {
  hosts: string[];
  pathPrefix: string;
  headers?: Record<string, string>;
}

/** Scaling knobs with KEDA HTTPScaledObject's meanings and defaults. */
export interface ScalingSpec {
  minReplicas: number;
  maxReplicas: number;
  metric: 'concurrency' | 'requestRate' | 'both';
  /** Target concurrent requests per instance (`keda.httpScaledObject.targetPendingRequests`, default 100). */
  targetConcurrency: number;
  /** Target requests per second per instance (`sprout.dev/target-rate`, default 100). */
  targetRate: number;
  rateWindowMs: number;
  rateGranularityMs: number;
  /** `keda.httpScaledObject.cooldownPeriod` seconds → ms (KEDA default 300 s). */
  scaledownPeriodMs: number;
}

/** One input trigger (`serving.triggers.dapr[]`): a pub/sub subscription or an input binding. */
export interface InputTrigger {
  /** The FUNC_CONTEXT `inputs` key (`inputName`, else `name`); the framework serves `POST /<name>`. */
  name: string;
  /** The Dapr component it reads (`serving.pubsub`/`serving.bindings` or a resources folder). */
  componentName: string;
  /** `pubsub.<type>` or `bindings.<type>`, as written (aliases such as `pubsub.mqtt` kept). */
  componentType: string;
  /** The topic subscribed to (pub/sub only). */
  topic?: string;
}

/** One KEDA ScaledObject trigger (`scaleOptions.keda.triggers[]`), metadata in KEDA's own names. */
export interface ScalerTrigger {
  /** KEDA's scaler type: `nats-jetstream`, `redis-streams`, `rabbitmq`, `cron`, Sprout's `mqtt`. */
  type: string;
  name?: string;
  metadata: Record<string, string>;
  /** KEDA's `metricType`; `AverageValue` (the default) divides the metric by the replicas. */
  metricType: 'AverageValue' | 'Value';
  /** Where it is written (`file:line`): the trigger and each metadata key, for messages about them. */
  at?: { trigger: string; metadata: Record<string, string> };
}

/** KEDA ScaledObject knobs for an event-driven function (`scaleOptions.keda.scaledObject`). */
export interface EventScalingSpec {
  /** `pollingInterval` seconds → ms (KEDA default 30 s). */
  pollingIntervalMs: number;
  /** `cooldownPeriod` seconds → ms (KEDA default 300 s): idle time before scaling to zero. */
  cooldownPeriodMs: number;
  triggers: ScalerTrigger[];
}

/** What feeds an async function and what it scales on; replicas stay within `scaling`'s min/max. */
export interface FunctionTriggers {
  inputs: InputTrigger[];
  scaling: EventScalingSpec;
}

/**
 * Whether and how the function gets a load-balancer address of its own (an EIP allocation for the
 * service `<namespace>/<name>`), from OpenELB's Service annotations on the Function.
 */
export interface ExposeSpec {
  /** False with `sprout.dev/expose: "false"`. */
  enabled: boolean;
  /** `eip.openelb.kubesphere.io/v1alpha2`: the Eip to take the address from. */
  pool?: string;
  /** `eip.openelb.kubesphere.io/v1alpha1`: the address wanted. */
  ip?: string;
}

/** `spec.build`: where the source is and how to build it (read by `sprout build`). */
export interface BuildSpec {
  builder?: string;
  env: Record<string, string>;
  srcRepo?: { url?: string; revision?: string; sourceSubPath?: string };
  dockerfile?: string;
}

/**
 * A function resolved from a function.yaml (OpenFunction Function v1beta2) or a plain folder: what
 * `sprout run`, `sprout dev`, `sprout deploy` and `sprout build` all start from. Everything is
 * validated and defaulted; nothing here needs parsing again.
 */
export interface ResolvedFunction {
  name: string;
  /** `metadata.namespace` (default `default`): what EIP pools are bound to. */
  namespace: string;
  expose: ExposeSpec;
  /** Folder with the code. */
  dir: string;
  /** The function.yaml it came from, if any. */
  file?: string;
  target?: string;
  signatureType?: string;
  /** Extra environment for instances (`serving.template.containers[].env`, `serving.params`). */
  env: Record<string, string>;
  /** OpenFunction's FUNC_CONTEXT for the function (name, version, runtime, port, outputs, states). */
  context: FunctionContext;
  /** Code version (`spec.version`, else package.json's `v<version>`, else v1.0.0). */
  version: string;
  /**
   * Dapr Component documents from `serving.states`, `serving.bindings` and `serving.pubsub`,
   * validated: what the function's state stores and outputs are.
   */
  components: ComponentDocument[];
  /** Dapr Resiliency documents of a `resiliency.yaml` beside the function.yaml, validated. */
  resiliency?: ResiliencyDocument[];
  /** `spec.build`, when the function.yaml has one. */
  build?: BuildSpec;
  /** The validated Function document, for rendering to a cluster (absent for a plain folder). */
  manifest?: FunctionDocument;
  /** Explicit routes from `triggers.http.route`; empty means the default `/<name>` prefix. */
  routes: RouteRule[];
  engine: 'keda' | 'knative';
  scaling: ScalingSpec;
  /** Input triggers and KEDA event scaling; absent for a function with neither (HTTP only). */
  triggers?: FunctionTriggers;
  readinessTimeoutMs: number;
  drainTimeoutMs: number;
  responseHeaderTimeoutMs?: number;
  /** Request timeout in seconds (`serving.timeout`), passed to the framework. */
  requestTimeoutSeconds?: number;
  placeholder?: string;
  fallback?: string;
}

export const DEFAULT_SCALING: ScalingSpec = {
  minReplicas: 0,
  maxReplicas: 10,
  metric: 'concurrency',
  targetConcurrency: 100,
  targetRate: 100,
  rateWindowMs: 60_000,
  rateGranularityMs: 1_000,
  scaledownPeriodMs: 300_000,
};
