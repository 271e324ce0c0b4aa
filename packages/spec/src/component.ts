import { z } from 'zod';
import { SpecError } from './errors.js';
import { firstIssue } from './issues.js';
import type { Locator } from './yaml.js';

const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** An empty `secretKeyRef: {name: "", key: ""}` (what OpenFunction's controller writes beside a value) means none, as in Dapr. */
const withoutEmptyRef = (v: unknown): unknown => {
  if (!v || typeof v !== 'object') return v;
  const ref = (v as { secretKeyRef?: { name?: unknown; key?: unknown } }).secretKeyRef;
  if (!ref || typeof ref !== 'object' || ref.name !== '' || (ref.key ?? '') !== '') return v;
  const { secretKeyRef: _empty, ...rest } = v as Record<string, unknown>;
  return rest;
};

const metadataItem = z.preprocess(
  withoutEmptyRef,
  z.strictObject({
    name: z.string().min(1),
    value: z.union([z.string(), z.number(), z.boolean()]).optional(),
    envRef: z.string().min(1).optional(),
    secretKeyRef: z.strictObject({ name: z.string().min(1), key: z.string().optional() }).optional(),
  }),
);

/** A Dapr component spec (`type`, `version`, `metadata`): in a Component file or a Function's serving block. */
export const componentSpecSchema = z.strictObject({
  type: z.string().regex(/^[a-z0-9]+\.[a-z0-9.\-_]+$/, 'must look like state.redis'),
  version: z.string().min(1),
  // `metadata:` left empty (null), as Dapr's own examples write it, is no metadata.
  metadata: z.preprocess((v) => v ?? [], z.array(metadataItem)),
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
/**
 * Where each `spec.metadata` item of a loaded component is written, by item name: `file:line` of its
 * name and of its value (the item's line when the value comes from `envRef`/`secretKeyRef`).
 */
export type MetadataPositions = Readonly<Record<string, { readonly name: string; readonly value: string }>>;

/** A Dapr `Component` document (dapr.io/v1alpha1), parsed and validated. */
export type ComponentDocument = z.infer<typeof componentDocument> & {
  /** File (and document index) it was read from, for messages. */
  source?: string;
  /** Set when read from a file (a resources folder or a function.yaml): where each metadata item is. */
  metadataAt?: MetadataPositions;
  /** Set with `metadataAt`: where its metadata list is (`file:line`; its spec without one), for a key it lacks. */
  componentAt?: string;
};

/** The positions of a component's metadata items, given the locator of the list holding them. */
function positionsOf(
  items: readonly MetadataItem[],
  at: Locator,
  list: (string | number)[],
): MetadataPositions {
  return Object.fromEntries(
    items.map((item, i) => [item.name, { name: at([...list, i, 'name']), value: at([...list, i, 'value']) }]),
  );
}

/**
 * Validates one parsed YAML/JSON document as a Dapr Component; errors name `source` and the field,
 * or, given the document's locator `at`, the file and line of the field.
 */
export function parseComponent(doc: unknown, source = 'component', at?: Locator): ComponentDocument {
  const r = componentDocument.safeParse(doc);
  if (!r.success) {
    const { field, message, path } = firstIssue(r.error);
    throw new SpecError(
      'SPROUT_ERR_SPEC_INVALID_COMPONENT',
      `${at ? at(path) : source}: ${field || '(document)'} ${message}`,
      {
        field,
      },
    );
  }
  return {
    ...r.data,
    source,
    ...(at
      ? {
          metadataAt: positionsOf(r.data.spec.metadata, at, ['spec', 'metadata']),
          componentAt: at(['spec', 'metadata']),
        }
      : {}),
  };
}

/**
 * A Component document for a spec given inline (a Function's `serving.states|bindings|pubsub` entry);
 * given the function.yaml's locator and the path of the spec in it, its metadata positions are kept.
 */
export function componentOf(
  name: string,
  spec: unknown,
  source: string,
  namespace?: string,
  located?: { at: Locator; path: (string | number)[] },
): ComponentDocument {
  const c = parseComponent(
    {
      apiVersion: 'dapr.io/v1alpha1',
      kind: 'Component',
      metadata: { name, ...(namespace ? { namespace } : {}) },
      spec: { version: 'v1', ...(spec as object) },
    },
    source,
  );
  if (located) {
    c.metadataAt = positionsOf(c.spec.metadata, located.at, [...located.path, 'metadata']);
    c.componentAt = located.at([...located.path, 'metadata']);
  }
  return c;
}
