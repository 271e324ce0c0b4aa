import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { loadCrds, vendoredCrdsDir, type CrdVersion } from './crds.js';
import { KubeError } from './errors.js';

// ajv and ajv-formats are CommonJS; their default exports arrive wrapped under ESM.
const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

/** A problem found in a manifest: a JSON pointer into the document and what is wrong there. */
export interface ManifestIssue {
  path: string;
  message: string;
}

export interface ValidationResult {
  valid: boolean;
  issues: ManifestIssue[];
}

export interface ManifestValidator {
  /** Validates one manifest against the CRD for its apiVersion and kind. */
  validate(manifest: unknown): ValidationResult;
  /** Like validate, but throws a `SPROUT_ERR_KUBE_INVALID_MANIFEST` naming every issue. */
  assertValid(manifest: unknown): void;
  /** The `group/version/Kind` keys this validator knows. */
  kinds(): string[];
}

type Json = Record<string, unknown>;

/**
 * Builds a validator over the CRDs in `crdsDir` (default: the CRDs shipped with this package,
 * `vendoredCrdsDir()`). Stricter than an API server in one way: a field the
 * schema does not declare is an error (an API server would silently prune it), so typos surface.
 *
 * @example
 * const v = createManifestValidator(); // or createManifestValidator('path/to/crds')
 * v.assertValid(yaml.parse(text));
 */
export function createManifestValidator(crdsDir: string = vendoredCrdsDir()): ManifestValidator {
  const crds = loadCrds(crdsDir);
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  for (const f of ['int32', 'int64', 'byte', 'int-or-string', 'quantity']) ajv.addFormat(f, true);
  // Kubernetes' `duration` is Go's time.ParseDuration (`15m`, `1h30m`), not ajv-formats' ISO 8601.
  ajv.addFormat('duration', /^[-+]?(?:0|(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/);
  const compiled = new Map<string, ValidateFunction>();

  const compile = (key: string, crd: CrdVersion): ValidateFunction => {
    let fn = compiled.get(key);
    if (!fn) {
      fn = ajv.compile(closeObjects(structuredClone(crd.schema), true));
      compiled.set(key, fn);
    }
    return fn;
  };

  const validate = (manifest: unknown): ValidationResult => {
    if (!manifest || typeof manifest !== 'object') {
      return { valid: false, issues: [{ path: '', message: 'manifest must be an object' }] };
    }
    const m = manifest as Json;
    const apiVersion = typeof m.apiVersion === 'string' ? m.apiVersion : '';
    const kind = typeof m.kind === 'string' ? m.kind : '';
    const key = `${apiVersion.includes('/') ? apiVersion : `/${apiVersion}`}/${kind}`;
    const crd = crds.get(key);
    if (!crd) {
      return {
        valid: false,
        issues: [{ path: '/apiVersion', message: `no CRD serves ${apiVersion} ${kind}` }],
      };
    }
    const issues: ManifestIssue[] = [];
    const meta = m.metadata as Json | undefined;
    if (!meta || typeof meta.name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(meta.name)) {
      issues.push({ path: '/metadata/name', message: 'must be a DNS subdomain name' });
    }
    if (crd.scope === 'Cluster' && meta?.namespace !== undefined) {
      issues.push({
        path: '/metadata/namespace',
        message: `${kind} is cluster-scoped and takes no namespace`,
      });
    }
    const fn = compile(key, crd);
    if (!fn(manifest)) issues.push(...(fn.errors ?? []).map(toIssue));
    return { valid: issues.length === 0, issues };
  };

  return {
    validate,
    assertValid(manifest) {
      const r = validate(manifest);
      if (!r.valid) {
        const m = manifest as Json;
        throw new KubeError(
          'SPROUT_ERR_KUBE_INVALID_MANIFEST',
          `${String(m?.kind)} ${String((m?.metadata as Json | undefined)?.name)} is not valid: ` +
            r.issues.map((i) => `${i.path || '/'} ${i.message}`).join('; '),
        );
      }
    },
    kinds: () => [...crds.keys()],
  };
}

function toIssue(e: ErrorObject): ManifestIssue {
  const extra =
    e.keyword === 'additionalProperties'
      ? ` (${String((e.params as { additionalProperty: string }).additionalProperty)})`
      : e.keyword === 'enum'
        ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`
        : '';
  return { path: e.instancePath, message: `${e.message ?? e.keyword}${extra}` };
}

/** Declares undeclared fields errors on every object schema that lists properties. */
function closeObjects(schema: Json, root: boolean): Json {
  if (schema.properties && typeof schema.properties === 'object') {
    const props = schema.properties as Record<string, Json>;
    for (const [name, child] of Object.entries(props)) {
      // ObjectMeta is not described by CRDs; leave it open.
      if (!(root && name === 'metadata')) closeObjects(child, false);
    }
    if (
      schema['x-kubernetes-preserve-unknown-fields'] !== true &&
      schema.additionalProperties === undefined
    ) {
      schema.additionalProperties = false;
    }
  }
  if (schema.items && typeof schema.items === 'object') closeObjects(schema.items as Json, false);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    closeObjects(schema.additionalProperties as Json, false);
  }
  for (const k of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = schema[k];
    if (Array.isArray(list)) for (const s of list as Json[]) closeObjects(s, false);
  }
  return schema;
}
