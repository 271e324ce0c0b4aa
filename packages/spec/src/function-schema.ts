import { z } from 'zod';
import { componentSpecSchema } from './component.js';

/** The API version of OpenFunction's Function that Sprout reads and writes. */
export const FUNCTION_API_VERSION = 'core.openfunction.io/v1beta2';

/** The annotation prefix for the knobs OpenFunction's Function schema lacks. */
export const ANNOTATION_PREFIX = 'sprout.dev/';

/** Every annotation Sprout reads under `sprout.dev/`; any other key under the prefix is refused. */
export const ANNOTATIONS = {
  'scaling-metric': 'concurrency | requestRate | both (default concurrency)',
  'target-rate': 'requests per second per instance for requestRate (default 100)',
  'rate-window': 'window the request rate is averaged over (default 1m)',
  'rate-granularity': 'bucket size of the rate window (default 1s)',
  'readiness-timeout': 'how long a new instance may take to become ready (default 20s)',
  'response-header-timeout': 'how long the gateway waits for response headers (default: the gateway’s)',
  'drain-timeout': 'how long a stopping instance may finish in-flight requests (default 30s)',
  placeholder: 'body answered while the function is cold instead of holding the request',
  fallback: 'URL requests are sent to while the function is cold',
  expose: 'true | false: give the function an address from its namespace’s EIP pool (default true)',
} as const;

/** OpenELB's Service annotations, read on a Function: the Eip to allocate from and the address wanted. */
export const EIP_POOL_ANNOTATION = 'eip.openelb.kubesphere.io/v1alpha2';
export const EIP_IP_ANNOTATION = 'eip.openelb.kubesphere.io/v1alpha1';

const envVar = z.object({ name: z.string().min(1), value: z.string().optional() }).strict();

const pathMatch = z
  .object({
    type: z.literal('PathPrefix', { error: 'only PathPrefix path matches are supported' }).optional(),
    value: z.string().startsWith('/', { error: 'must start with /' }),
  })
  .strict();

const headerMatch = z
  .object({
    type: z.literal('Exact', { error: 'only Exact header matches are supported' }).optional(),
    name: z.string().min(1),
    value: z.string(),
  })
  .strict();

const route = z
  .object({
    gatewayRef: z.object({ name: z.string(), namespace: z.string() }).strict().optional(),
    hostnames: z.array(z.string().min(1)).optional(),
    rules: z
      .array(
        z
          .object({
            matches: z
              .array(
                z.object({ path: pathMatch.optional(), headers: z.array(headerMatch).optional() }).strict(),
              )
              .optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

const daprOutput = z
  .object({
    dapr: z
      .object({
        name: z.string().min(1),
        type: z.string().optional(),
        topic: z.string().optional(),
        operation: z.string().optional(),
        metadata: z.record(z.string(), z.string()).optional(),
      })
      .strict(),
  })
  .strict();

/** An input trigger as OpenFunction v1beta2 writes it: a Dapr component name, its type, a topic. */
const daprTrigger = z
  .object({
    name: z.string().min(1),
    type: z.string().min(1).optional(),
    topic: z.string().min(1).optional(),
    inputName: z.string().min(1).optional(),
  })
  .strict();

/**
 * `scaleOptions.keda.scaledObject` as OpenFunction's CRD has it. `advanced` (HPA behaviour) and
 * `fallback` are not in the schema, so they are refused rather than ignored.
 */
const scaledObject = z
  .object({
    pollingInterval: z.number().int().min(1).optional(),
    cooldownPeriod: z.number().int().min(0).optional(),
  })
  .strict();

/** A KEDA ScaledObject trigger, metadata in KEDA's own names (values are strings, as in KEDA). */
const kedaTrigger = z
  .object({
    type: z.string().min(1),
    name: z.string().min(1).optional(),
    metadata: z.record(z.string(), z.string()),
    metricType: z.enum(['AverageValue', 'Value']).optional(),
  })
  .strict();

/** A Dapr component spec written inline in the Function; `version` defaults to v1 as OpenFunction does. */
const component = componentSpecSchema.extend({ version: z.string().min(1).optional() });

/**
 * `spec.build` as OpenFunction v1beta2 has it. Locally only the source and builder settings are read
 * (by `sprout build`); the Shipwright knobs are carried to the cluster as they are.
 */
const build = z
  .object({
    builder: z.string().optional(),
    builderCredentials: z.object({ name: z.string() }).optional(),
    env: z.record(z.string(), z.string()).optional(),
    dockerfile: z.string().optional(),
    srcRepo: z
      .object({
        url: z.string().optional(),
        revision: z.string().optional(),
        sourceSubPath: z.string().optional(),
        credentials: z.object({ name: z.string() }).optional(),
        bundleContainer: z.object({ image: z.string() }).loose().optional(),
      })
      .strict()
      .optional(),
  })
  .loose();

const serving = z
  .object({
    triggers: z
      .object({
        http: z
          .object({
            port: z.number().int().min(1).max(65535).optional(),
            engine: z.enum(['keda', 'knative']).optional(),
            route: route.optional(),
          })
          .strict()
          .optional(),
        dapr: z.array(daprTrigger).optional(),
      })
      .strict()
      .optional(),
    scaleOptions: z
      .object({
        minReplicas: z.number().int().min(0).optional(),
        maxReplicas: z.number().int().min(1).optional(),
        keda: z
          .object({
            httpScaledObject: z
              .object({
                targetPendingRequests: z.number().int().min(1).optional(),
                cooldownPeriod: z.number().int().min(0).optional(),
              })
              .strict()
              .optional(),
            scaledObject: scaledObject.optional(),
            triggers: z.array(kedaTrigger).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    params: z.record(z.string(), z.string()).optional(),
    template: z
      .object({
        containers: z.array(z.object({ name: z.string(), env: z.array(envVar).optional() }).loose()),
      })
      .loose()
      .optional(),
    timeout: z.string().optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    labels: z.record(z.string(), z.string()).optional(),
    workloadType: z.enum(['Deployment', 'StatefulSet']).optional(),
    outputs: z.array(daprOutput).optional(),
    bindings: z.record(z.string(), component).optional(),
    pubsub: z.record(z.string(), component).optional(),
    states: z.record(z.string(), z.object({ spec: component }).strict()).optional(),
  })
  .strict();

/**
 * The part of an OpenFunction Function (core.openfunction.io/v1beta2) Sprout runs locally. Objects
 * that steer behaviour are strict: an unknown or unsupported field there is refused, not ignored.
 */
export const functionSchema = z
  .object({
    apiVersion: z.literal(FUNCTION_API_VERSION),
    kind: z.literal('Function'),
    metadata: z
      .object({
        name: z
          .string()
          .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: 'must be a DNS-1123 label (a-z, 0-9, -)' })
          .max(63),
        namespace: z
          .string()
          .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: 'must be a DNS-1123 label (a-z, 0-9, -)' })
          .max(63)
          .optional(),
        labels: z.record(z.string(), z.string()).optional(),
        annotations: z.record(z.string(), z.string()).optional(),
      })
      .loose(),
    spec: z
      .object({
        version: z.string().optional(),
        image: z.string().optional(),
        imageCredentials: z.object({ name: z.string() }).optional(),
        workloadRuntime: z.string().optional(),
        build: build.optional(),
        serving: serving.optional(),
      })
      .strict(),
    status: z.unknown().optional(),
  })
  .strict();

export type FunctionDocument = z.infer<typeof functionSchema>;
