import { z } from 'zod';
import { FrameworkError } from './errors.js';

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
const FunctionContextSchema = z.looseObject({
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

export type FunctionContext = z.output<typeof FunctionContextSchema>;
export type ComponentRef = z.output<typeof Component>;
export type TracingConfig = z.output<typeof Tracing>;

/**
 * Parses FUNC_CONTEXT (a JSON string, or an already-parsed object). An invalid context is an error
 * naming the field, never a silent `undefined` as in the anchor.
 *
 * @example
 * parseFunctionContext('{"name":"hello","runtime":"knative","outputs":{}}');
 */
export function parseFunctionContext(input: string | object): FunctionContext {
  let raw: unknown = input;
  if (typeof input === 'string') {
    const text = input.trim();
    try {
      raw = JSON.parse(text);
    } catch (err) {
      // OpenFunction's Go framework also accepts the context base64-encoded.
      const decoded = /^[A-Za-z0-9+/=\s]+$/.test(text) ? Buffer.from(text, 'base64').toString('utf8') : '';
      try {
        raw = JSON.parse(decoded);
      } catch {
        throw new FrameworkError(
          'SPROUT_ERR_FRAMEWORK_INVALID_CONTEXT',
          `FUNC_CONTEXT is not valid JSON: ${(err as Error).message}`,
          { field: 'FUNC_CONTEXT' },
        );
      }
    }
  }
  const result = FunctionContextSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.length ? issue.path.join('.') : '(root)';
    throw new FrameworkError(
      'SPROUT_ERR_FRAMEWORK_INVALID_CONTEXT',
      `FUNC_CONTEXT field "${field}": ${issue.message}`,
      { field },
    );
  }
  const ctx = result.data;
  if (!ctx.pluginsTracing && ctx.tracing) ctx.pluginsTracing = ctx.tracing;
  return ctx;
}

/** The context a plain function gets when no FUNC_CONTEXT is given. */
export function defaultFunctionContext(name: string): FunctionContext {
  return { name, version: 'v1.0.0', runtime: 'knative' };
}
