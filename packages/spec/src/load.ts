import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseDuration } from '@sprout/http';
import { dnsLabel } from '@sprout/kube/names';
import { applyAnnotations } from './annotations.js';
import { componentsOf, contextOf, routesOf } from './derive.js';
import { SpecError } from './errors.js';
import { FUNCTION_API_VERSION, functionSchema, type FunctionDocument } from './function-schema.js';
import { firstIssue } from './issues.js';
import { contextInputs, triggersOf } from './triggers.js';
import { functionYamlOf, isFunctionFolder, packageVersion, plainFunction } from './folder.js';
import type { BuildSpec, ResolvedFunction } from './resolved.js';
import { resiliencyBeside } from './resiliency.js';
import { parseYaml, type Locator } from './yaml.js';

/** What loading some paths produced: the functions found and, separately, what was wrong. */
export interface LoadResult {
  functions: ResolvedFunction[];
  errors: SpecError[];
}

/**
 * Loads functions from folders and function.yaml files. A folder with a function.yaml is that
 * Function; a folder with only code is a plain HTTP function named after the folder; any other
 * folder is searched one level down. One bad file does not stop the others: its error is returned.
 *
 * @example
 * const { functions, errors } = loadFunctions(['examples/hello'], process.cwd());
 */
export function loadFunctions(paths: string[], cwd: string): LoadResult {
  const out: LoadResult = { functions: [], errors: [] };
  const add = (load: () => ResolvedFunction) => {
    try {
      out.functions.push(load());
    } catch (err) {
      if (err instanceof SpecError) out.errors.push(err);
      else throw err;
    }
  };
  for (const p of paths) {
    const abs = resolve(cwd, p);
    if (!existsSync(abs)) {
      out.errors.push(new SpecError('SPROUT_ERR_SPEC_NO_FUNCTION', `${p}: no such file or folder`));
      continue;
    }
    if (statSync(abs).isFile()) {
      add(() => loadFunctionYaml(abs));
      continue;
    }
    if (isFunctionFolder(abs)) {
      add(() => loadFunctionDir(abs));
      continue;
    }
    const subs = readdirSync(abs, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules')
      .map((d) => join(abs, d.name))
      .filter(isFunctionFolder)
      .sort();
    if (!subs.length) {
      out.errors.push(
        new SpecError(
          'SPROUT_ERR_SPEC_NO_FUNCTION',
          `${p}: no function.yaml, index.ts or index.js here or in its sub-folders`,
        ),
      );
    }
    for (const s of subs) add(() => loadFunctionDir(s));
  }
  const seen = new Map<string, ResolvedFunction>();
  out.functions = out.functions.filter((f) => {
    const prev = seen.get(f.name);
    if (!prev) return (seen.set(f.name, f), true);
    out.errors.push(
      new SpecError(
        'SPROUT_ERR_SPEC_DUPLICATE_FUNCTION',
        `${f.file ?? f.dir}: function name "${f.name}" is already used by ${prev.file ?? prev.dir}`,
      ),
    );
    return false;
  });
  return out;
}

/** Loads one function folder: its function.yaml when there is one, else a plain HTTP function. */
export function loadFunctionDir(dir: string): ResolvedFunction {
  const yamlFile = functionYamlOf(dir);
  if (yamlFile) return loadFunctionYaml(yamlFile);
  return plainFunction(dnsLabel(basename(dir)), dir, packageVersion(dir));
}

/** Reads and validates one function.yaml; errors name the file, line and field. */
export function loadFunctionYaml(file: string): ResolvedFunction {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SpecError('SPROUT_ERR_SPEC_NO_FUNCTION', `${file}: ${(err as Error).message}`);
  }
  return resolveFunctionText(text, file);
}

/** Validates function.yaml text (named `file` in messages) and resolves it. */
export function resolveFunctionText(text: string, file: string): ResolvedFunction {
  const { value, at } = parseYaml(text, file, 'SPROUT_ERR_SPEC_INVALID_FUNCTION');
  const head = value as { apiVersion?: unknown; kind?: unknown } | null;
  if (
    !head ||
    typeof head !== 'object' ||
    head.apiVersion !== FUNCTION_API_VERSION ||
    head.kind !== 'Function'
  ) {
    throw new SpecError(
      'SPROUT_ERR_SPEC_INVALID_FUNCTION',
      `${at(['apiVersion'])}: apiVersion/kind must be ${FUNCTION_API_VERSION} Function (got ${String(head?.apiVersion)} ${String(head?.kind)})`,
      { field: 'apiVersion' },
    );
  }
  const result = functionSchema.safeParse(value);
  if (!result.success) {
    const { path, field, message, unknownKey } = firstIssue(result.error);
    if (unknownKey !== undefined) {
      const full = [...path, unknownKey];
      throw new SpecError(
        'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
        `${at(full)}: field "${full.join('.')}" is not supported by sprout dev and would change behaviour; remove it or run on Kubernetes`,
        { field: full.join('.') },
      );
    }
    throw new SpecError('SPROUT_ERR_SPEC_INVALID_FUNCTION', `${at(path)}: field "${field}": ${message}`, {
      field,
    });
  }
  return resolveDocument(result.data, file, at);
}

function resolveDocument(doc: FunctionDocument, file: string, at: Locator): ResolvedFunction {
  const fail = (path: string[], why: string) =>
    new SpecError('SPROUT_ERR_SPEC_INVALID_FUNCTION', `${at(path)}: field "${path.join('.')}": ${why}`, {
      field: path.join('.'),
    });
  const version = doc.spec.version ?? 'v1.0.0';
  const fn = plainFunction(doc.metadata.name, dirname(file), version);
  fn.file = file;
  fn.manifest = doc;
  if (doc.metadata.namespace !== undefined) fn.namespace = doc.metadata.namespace;
  const serving = doc.spec.serving ?? {};
  fn.engine = serving.triggers?.http?.engine ?? 'knative';
  const params = serving.params ?? {};
  if (params.FUNCTION_TARGET) fn.target = params.FUNCTION_TARGET;
  if (params.FUNCTION_SIGNATURE_TYPE) fn.signatureType = params.FUNCTION_SIGNATURE_TYPE;
  const containers = serving.template?.containers ?? [];
  const container = containers.find((c) => c.name === 'function') ?? containers[0];
  for (const e of container?.env ?? []) fn.env[e.name] = e.value ?? '';
  for (const [k, v] of Object.entries(params)) fn.env[k] = v;
  if (serving.timeout !== undefined) {
    const ms = parseDuration(serving.timeout);
    if (ms === undefined) throw fail(['spec', 'serving', 'timeout'], 'not a duration (e.g. 30s, 1m)');
    fn.requestTimeoutSeconds = Math.ceil(ms / 1000);
  }
  fn.context = contextOf(doc, version);
  const triggers = triggersOf(serving, at);
  if (triggers) {
    fn.triggers = triggers;
    // OpenFunction's controller: a Function with Dapr input triggers runs the async runtime.
    if (triggers.inputs.length) {
      fn.context.runtime = 'async';
      fn.context.inputs = contextInputs(triggers.inputs);
    }
  }
  fn.components = componentsOf(doc, file, at);
  const resiliency = resiliencyBeside(dirname(file));
  if (resiliency) fn.resiliency = resiliency;
  fn.routes = routesOf(serving);
  const so = serving.scaleOptions;
  if (so?.minReplicas !== undefined) fn.scaling.minReplicas = so.minReplicas;
  if (so?.maxReplicas !== undefined) fn.scaling.maxReplicas = so.maxReplicas;
  if (fn.scaling.minReplicas > fn.scaling.maxReplicas)
    throw fail(['spec', 'serving', 'scaleOptions', 'minReplicas'], 'greater than maxReplicas');
  const hso = so?.keda?.httpScaledObject;
  if (hso?.targetPendingRequests !== undefined) fn.scaling.targetConcurrency = hso.targetPendingRequests;
  if (hso?.cooldownPeriod !== undefined) fn.scaling.scaledownPeriodMs = hso.cooldownPeriod * 1000;
  if (doc.spec.build) fn.build = buildOf(doc.spec.build);
  applyAnnotations(fn, doc.metadata.annotations ?? {}, at);
  return fn;
}

function buildOf(b: NonNullable<FunctionDocument['spec']['build']>): BuildSpec {
  const out: BuildSpec = { env: { ...b.env } };
  if (b.builder) out.builder = b.builder;
  if (b.dockerfile) out.dockerfile = b.dockerfile;
  if (b.srcRepo) {
    const { url, revision, sourceSubPath } = b.srcRepo;
    out.srcRepo = {
      ...(url ? { url } : {}),
      ...(revision ? { revision } : {}),
      ...(sourceSubPath ? { sourceSubPath } : {}),
    };
  }
  return out;
}
