import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** One served version of a CustomResourceDefinition: its identity and OpenAPI v3 schema. */
export interface CrdVersion {
  group: string;
  version: string;
  kind: string;
  scope: 'Namespaced' | 'Cluster';
  schema: Record<string, unknown>;
}

interface JsonPatchOp {
  op: 'replace' | 'add' | 'remove';
  path: string;
  value?: unknown;
}

type Json = Record<string, unknown>;

/**
 * The folder of upstream CRD schemas (and a few upstream samples) shipped with this package, as
 * listed in its `crds/README.md`. The validator and `sprout deploy` use it unless given another.
 */
export function vendoredCrdsDir(): string {
  // src/crds.ts and dist/crds.js both sit one level below the package root.
  return fileURLToPath(new URL('../crds', import.meta.url));
}

/**
 * Reads every CRD under `dir` (recursively, `*.yaml`), applies the JSON-6902 patches an upstream
 * kustomization applies (files under a `patches/` folder whose name matches the CRD's file), and
 * returns each served version keyed by `group/version/Kind`. `dir` defaults to the vendored CRDs.
 */
export function loadCrds(dir: string = vendoredCrdsDir()): Map<string, CrdVersion> {
  const files = walk(dir).filter((f) => f.endsWith('.yaml') && !f.includes('/samples/'));
  const patches = files.filter((f) => f.includes('/patches/'));
  const out = new Map<string, CrdVersion>();
  for (const file of files.filter((f) => !f.includes('/patches/'))) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const crd = doc.toJS() as Json | null;
      if (!crd || crd.kind !== 'CustomResourceDefinition') continue;
      for (const p of patches) applyPatchFile(crd, p);
      const spec = crd.spec as Json;
      const names = spec.names as Json;
      for (const v of spec.versions as Json[]) {
        if (v.served === false) continue;
        const schema = (v.schema as Json | undefined)?.openAPIV3Schema as Json | undefined;
        if (!schema) continue;
        const entry: CrdVersion = {
          group: String(spec.group),
          version: String(v.name),
          kind: String(names.kind),
          scope: spec.scope === 'Cluster' ? 'Cluster' : 'Namespaced',
          schema,
        };
        out.set(`${entry.group}/${entry.version}/${entry.kind}`, entry);
      }
    }
  }
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/**
 * Applies a patch file to a CRD when the patch targets it. Upstream names patches after the plural
 * they change (`dynamicvalue_in_functions.yaml` → `functions`).
 */
function applyPatchFile(crd: Json, file: string): void {
  const plural = String(((crd.spec as Json).names as Json).plural);
  const base = file
    .split('/')
    .pop()!
    .replace(/\.yaml$/, '');
  const group = String((crd.spec as Json).group);
  const target = base.split('_').pop();
  const matches =
    target === plural || (base === 'scaledobject_patch' && plural === 'scaledobjects' && group === 'keda.sh');
  if (!matches) return;
  const ops = parseAllDocuments(readFileSync(file, 'utf8'))[0]?.toJS() as unknown;
  if (!Array.isArray(ops)) return; // a strategic-merge patch, not JSON-6902: nothing schema-relevant for us
  for (const op of ops as JsonPatchOp[]) applyOp(crd, op);
}

function applyOp(doc: Json, op: JsonPatchOp): void {
  const parts = op.path
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = parts.pop()!;
  let node: unknown = doc;
  for (const p of parts) {
    node = (node as Json)[p];
    if (node === undefined) return;
  }
  const parent = node as Json;
  // `type: ""` is Kubernetes' "any type": drop the keyword.
  if (op.op === 'remove' || (last === 'type' && op.value === '')) delete parent[last];
  else parent[last] = op.value;
}
