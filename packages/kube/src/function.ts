import { dnsLabel } from './names.js';

export const FUNCTION_API_VERSION = 'core.openfunction.io/v1beta2';

/**
 * An OpenFunction Function manifest (the fields Sprout writes; a user's file may hold more). Reading
 * and validating a function.yaml is @sprout/spec's job; this package only renders.
 */
export interface FunctionManifest {
  apiVersion: typeof FUNCTION_API_VERSION;
  kind: 'Function';
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    version?: string;
    image: string;
    serving?: Record<string, unknown>;
    build?: Record<string, unknown>;
    [field: string]: unknown;
  };
}

/** A Function document as read from a function.yaml: like the rendered one, but the image is optional. */
export interface FunctionManifestInput {
  metadata: FunctionManifest['metadata'];
  spec: {
    version?: string | undefined;
    image?: string | undefined;
    serving?: Record<string, unknown> | undefined;
    [field: string]: unknown;
  };
}

export interface RenderFunctionInput {
  /** Function name; made a DNS-1123 label. */
  name: string;
  namespace?: string;
  /** Semantic version of the code (package.json `version`); rendered as `v<version>`. */
  version?: string;
  /** The image to run; OpenFunction requires one. */
  image: string;
  target?: string;
  signatureType?: string;
  port?: number;
  /** A validated function.yaml (from @sprout/spec) to start from; flags override its image, name and namespace. */
  base?: FunctionManifestInput;
}

/**
 * Renders the OpenFunction Function for a function folder: from its function.yaml when there is
 * one, else from what the folder says (name, version) and the flags. The result is meant to be
 * applied unchanged to a cluster running OpenFunction.
 *
 * @example
 * renderFunction({ name: 'hello', image: 'registry.local/hello:v1' });
 */
export function renderFunction(input: RenderFunctionInput): FunctionManifest {
  const base = input.base ? structuredClone(input.base) : undefined;
  const name = dnsLabel(base?.metadata?.name ?? input.name);
  const labels = { 'app.kubernetes.io/managed-by': 'sprout', ...base?.metadata?.labels };
  const metadata: FunctionManifest['metadata'] = { name, labels };
  const namespace = input.namespace ?? base?.metadata?.namespace;
  if (namespace) metadata.namespace = namespace;
  if (base?.metadata?.annotations) metadata.annotations = base.metadata.annotations;
  const serving = (base?.spec?.serving ?? {}) as Record<string, unknown>;
  const triggers = (serving.triggers ?? {}) as Record<string, unknown>;
  if (!triggers.http && !triggers.dapr && !triggers.inputs) triggers.http = { port: input.port ?? 8080 };
  serving.triggers = triggers;
  const params = { ...(serving.params as Record<string, string> | undefined) };
  if (input.target) params.FUNCTION_TARGET = input.target;
  if (input.signatureType) params.FUNCTION_SIGNATURE_TYPE = input.signatureType;
  if (Object.keys(params).length) serving.params = params;
  serving.template ??= { containers: [{ name: 'function', imagePullPolicy: 'IfNotPresent' }] };
  const version = base?.spec?.version ?? (input.version ? `v${input.version.replace(/^v/, '')}` : 'v1.0.0');
  return {
    apiVersion: FUNCTION_API_VERSION,
    kind: 'Function',
    metadata,
    spec: { ...base?.spec, version, image: input.image || base?.spec?.image || `${name}:latest`, serving },
  };
}
