import { z } from 'zod';
import { SpecError } from './errors.js';
import { firstIssue } from './issues.js';

const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

const metadataItem = z.strictObject({
  name: z.string().min(1),
  value: z.union([z.string(), z.number(), z.boolean()]).optional(),
  envRef: z.string().min(1).optional(),
  secretKeyRef: z.strictObject({ name: z.string().min(1), key: z.string().optional() }).optional(),
});

/** A Dapr component spec (`type`, `version`, `metadata`): in a Component file or a Function's serving block. */
export const componentSpecSchema = z.strictObject({
  type: z.string().regex(/^[a-z0-9]+\.[a-z0-9.\-_]+$/, 'must look like state.redis'),
  version: z.string().min(1),
  metadata: z.array(metadataItem).default([]),
  ignoreErrors: z.boolean().optional(),
  initTimeout: z.string().optional(),
});

const componentDocument = z.strictObject({
  apiVersion: z.literal('dapr.io/v1alpha1'),
  kind: z.literal('Component'),
  metadata: z.looseObject({
    name: z.string().regex(DNS_NAME, 'must be a lowercase DNS name'),
    namespace: z.string().optional(),
  }),
  spec: componentSpecSchema,
  scopes: z.array(z.string()).optional(),
  auth: z.strictObject({ secretStore: z.string() }).optional(),
});

/** A name/value pair of a component's metadata; the value may come from an env var or a secret. */
export type MetadataItem = z.infer<typeof metadataItem>;
export type ComponentSpec = z.infer<typeof componentSpecSchema>;
/** A Dapr `Component` document (dapr.io/v1alpha1), parsed and validated. */
export type ComponentDocument = z.infer<typeof componentDocument> & {
  /** File (and document index) it was read from, for messages. */
  source?: string;
};

/** Validates one parsed YAML/JSON document as a Dapr Component; errors name `source` and the field. */
export function parseComponent(doc: unknown, source = 'component'): ComponentDocument {
  const r = componentDocument.safeParse(doc);
  if (!r.success) {
    const { field, message } = firstIssue(r.error);
    throw new SpecError(
      'SPROUT_ERR_SPEC_INVALID_COMPONENT',
      `${source}: ${field || '(document)'} ${message}`,
      {
        field,
      },
    );
  }
  return { ...r.data, source };
}

/** A Component document for a spec given inline (a Function's `serving.states|bindings|pubsub` entry). */
export function componentOf(
  name: string,
  spec: unknown,
  source: string,
  namespace?: string,
): ComponentDocument {
  return parseComponent(
    {
      apiVersion: 'dapr.io/v1alpha1',
      kind: 'Component',
      metadata: { name, ...(namespace ? { namespace } : {}) },
      spec: { version: 'v1', ...(spec as object) },
    },
    source,
  );
}
