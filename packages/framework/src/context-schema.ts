import { z } from 'zod';
import type { FunctionContext } from './context.js';

const componentType = z
  .string()
  .regex(
    /^(bindings|pubsub|state)\.[A-Za-z0-9._-]+$/,
    'must look like bindings.<type>, pubsub.<type> or state.<type>',
  );

/** One Dapr component reference in FUNC_CONTEXT (an input, output or state store). */
const Component = z.looseObject({
  componentName: z.string().min(1),
  componentType,
  uri: z.string().optional(),
  operation: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

const Tracing = z.looseObject({
  enabled: z.boolean(),
  provider: z
    .looseObject({
      name: z.string(),
      /** SkyWalking's OAP address in OpenFunction; for `opentelemetry`, the OTLP/HTTP endpoint. */
      oapServer: z.string().optional(),
      exporter: z
        .looseObject({ endpoint: z.string().optional(), protocol: z.string().optional() })
        .optional(),
    })
    .optional(),
  tags: z.record(z.string(), z.string()).optional(),
  baggage: z.record(z.string(), z.string()).optional(),
});

/**
 * OpenFunction's function context (FUNC_CONTEXT). Known fields are typed; fields OpenFunction's
 * controller adds that the framework does not use (podName, httpPattern, …) pass through.
 */
export const FunctionContextSchema: z.ZodType<FunctionContext, unknown> = z.looseObject({
  name: z.string().min(1),
  version: z.string().default('v1.0.0'),
  runtime: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['knative', 'async']))
    .default('knative'),
  port: z.union([z.string().regex(/^\d+$/), z.number().int()]).optional(),
  inputs: z.record(z.string(), Component).optional(),
  outputs: z.record(z.string(), Component).optional(),
  states: z.record(z.string(), Component).optional(),
  prePlugins: z.array(z.string()).optional(),
  postPlugins: z.array(z.string()).optional(),
  pluginsTracing: Tracing.optional(),
  tracing: Tracing.optional(),
});
