import { z } from 'zod';
import { SpecError } from './errors.js';
import { firstIssue } from './issues.js';

const rule = z.strictObject({ match: z.string(), path: z.string().min(1) });

const v2alpha1 = z.strictObject({
  apiVersion: z.literal('dapr.io/v2alpha1'),
  kind: z.literal('Subscription'),
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().optional() }),
  spec: z.strictObject({
    pubsubname: z.string().min(1),
    topic: z.string().min(1),
    routes: z.strictObject({ rules: z.array(rule).optional(), default: z.string().optional() }),
    deadLetterTopic: z.string().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    bulkSubscribe: z
      .strictObject({
        enabled: z.boolean(),
        maxMessagesCount: z.number().int().positive().optional(),
        maxAwaitDurationMs: z.number().int().positive().optional(),
      })
      .optional(),
  }),
  scopes: z.array(z.string()).optional(),
});

const v1alpha1 = z.strictObject({
  apiVersion: z.literal('dapr.io/v1alpha1'),
  kind: z.literal('Subscription'),
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().optional() }),
  spec: z.strictObject({
    pubsubname: z.string().min(1),
    topic: z.string().min(1),
    route: z.string().min(1),
    deadLetterTopic: z.string().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
  }),
  scopes: z.array(z.string()).optional(),
});

/** A Dapr declarative `Subscription`, read as v2alpha1 (a v1alpha1 `route` becomes `routes.default`). */
export type SubscriptionDocument = z.infer<typeof v2alpha1> & { source?: string };

/** Validates a Dapr Subscription document (dapr.io/v2alpha1, or v1alpha1 converted). */
export function parseSubscription(doc: unknown, source = 'subscription'): SubscriptionDocument {
  const version = (doc as { apiVersion?: unknown } | null)?.apiVersion;
  if (version === 'dapr.io/v1alpha1') {
    const r = v1alpha1.safeParse(doc);
    if (!r.success) throw invalid(source, r.error);
    const { route, ...spec } = r.data.spec;
    return {
      ...r.data,
      apiVersion: 'dapr.io/v2alpha1',
      spec: { ...spec, routes: { default: route } },
      source,
    };
  }
  const r = v2alpha1.safeParse(doc);
  if (!r.success) throw invalid(source, r.error);
  return { ...r.data, source };
}

function invalid(source: string, error: z.ZodError): SpecError {
  const { field, message } = firstIssue(error);
  return new SpecError(
    'SPROUT_ERR_SPEC_INVALID_COMPONENT',
    `${source}: ${field || '(document)'} ${message}`,
    {
      field,
    },
  );
}
