import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { dnsLabel, parseFunctionYaml } from '@sprout/kube';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { z } from 'zod';
import { DEFAULT_SCALING, type FunctionDefinition, type RouteRule } from './definition.js';
import { parseDuration } from './duration.js';
import { PlatformError } from './errors.js';
import {
  ANNOTATION_PREFIX,
  ANNOTATIONS,
  EIP_IP_ANNOTATION,
  EIP_POOL_ANNOTATION,
  functionSchema,
  type FunctionDocument,
} from './spec.js';

const YAML_NAMES = ['function.yaml', 'function.yml'];
const ENTRY_NAMES = [
  'index.ts',
  'index.js',
  'index.mjs',
  'index.cjs',
  'index.mts',
  'index.cts',
  'function.js',
];

/** What loading some paths produced: the functions found and, separately, what was wrong. */
export interface LoadResult {
  functions: FunctionDefinition[];
  errors: PlatformError[];
}

const isFunctionFolder = (dir: string) =>
  YAML_NAMES.some((f) => existsSync(join(dir, f))) ||
  ENTRY_NAMES.some((f) => existsSync(join(dir, f))) ||
  existsSync(join(dir, 'package.json'));

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
  const add = (fn: () => FunctionDefinition) => {
    try {
      out.functions.push(fn());
    } catch (err) {
      if (err instanceof PlatformError) out.errors.push(err);
      else throw err;
    }
  };
  for (const p of paths) {
    const abs = resolve(cwd, p);
    if (!existsSync(abs)) {
      out.errors.push(new PlatformError('SPROUT_ERR_PLATFORM_NO_FUNCTION', `${p}: no such file or folder`));
      continue;
    }
    if (statSync(abs).isFile()) {
      add(() => loadFunctionYaml(abs));
      continue;
    }
    if (isFunctionFolder(abs)) {
      add(() => loadFolder(abs));
      continue;
    }
    const subs = readdirSync(abs, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules')
      .map((d) => join(abs, d.name))
      .filter(isFunctionFolder)
      .sort();
    if (!subs.length) {
      out.errors.push(
        new PlatformError(
          'SPROUT_ERR_PLATFORM_NO_FUNCTION',
          `${p}: no function.yaml, index.ts or index.js here or in its sub-folders`,
        ),
      );
    }
    for (const s of subs) add(() => loadFolder(s));
  }
  const seen = new Map<string, FunctionDefinition>();
  out.functions = out.functions.filter((f) => {
    const prev = seen.get(f.name);
    if (!prev) return (seen.set(f.name, f), true);
    out.errors.push(
      new PlatformError(
        'SPROUT_ERR_PLATFORM_DUPLICATE_FUNCTION',
        `${f.file ?? f.dir}: function name "${f.name}" is already used by ${prev.file ?? prev.dir}`,
      ),
    );
    return false;
  });
  return out;
}

function loadFolder(dir: string): FunctionDefinition {
  const yamlFile = YAML_NAMES.map((f) => join(dir, f)).find((f) => existsSync(f));
  if (yamlFile) return loadFunctionYaml(yamlFile);
  return plainFunction(dnsLabel(basename(dir)), dir);
}

/** A folder without function.yaml: an HTTP function with every default. */
export function plainFunction(name: string, dir: string): FunctionDefinition {
  return {
    name,
    namespace: 'default',
    expose: { enabled: true },
    dir,
    env: {},
    context: { name, version: 'v1.0.0', runtime: 'knative', port: '8080' },
    routes: [],
    engine: 'knative',
    scaling: { ...DEFAULT_SCALING },
    readinessTimeoutMs: 20_000,
    drainTimeoutMs: 30_000,
  };
}

/** Reads and validates one function.yaml; errors name the file, line and field. */
export function loadFunctionYaml(file: string): FunctionDefinition {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PlatformError('SPROUT_ERR_PLATFORM_NO_FUNCTION', `${file}: ${(err as Error).message}`);
  }
  let parsed: { manifest: unknown };
  try {
    parsed = parseFunctionYaml(text, file);
  } catch (err) {
    throw new PlatformError('SPROUT_ERR_PLATFORM_INVALID_FUNCTION', (err as Error).message, 400, {
      cause: err,
    });
  }
  const keyLine = keyLocator(text);
  const at = (path: (string | number)[]) => `${file}:${keyLine(path)}`;
  const result = functionSchema.safeParse(parsed.manifest);
  if (!result.success) throw schemaError(result.error, at);
  return resolveDocument(result.data, file, at);
}

/** Maps a field path to the line of its key (or list item), else of its closest parent. */
function keyLocator(text: string): (path: (string | number)[]) => number {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  return (path) => {
    let node = doc.contents as Node | null;
    let line = 1;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === seg);
        const range = (pair?.key as Node | undefined)?.range;
        if (!pair || !range) break;
        line = lc.linePos(range[0]).line;
        node = pair.value as Node | null;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as Node | undefined;
        if (!item?.range) break;
        line = lc.linePos(item.range[0]).line;
        node = item;
      } else break;
    }
    return line;
  };
}

function schemaError(error: z.ZodError, at: (path: (string | number)[]) => string): PlatformError {
  const issue = error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const field = [...path, key].join('.');
    return new PlatformError(
      'SPROUT_ERR_PLATFORM_UNSUPPORTED_FIELD',
      `${at([...path, key])}: field "${field}" is not supported by sprout dev and would change behaviour; remove it or run on Kubernetes`,
    );
  }
  return new PlatformError(
    'SPROUT_ERR_PLATFORM_INVALID_FUNCTION',
    `${at(path)}: field "${path.join('.')}": ${issue.message}`,
  );
}

function resolveDocument(
  doc: FunctionDocument,
  file: string,
  at: (path: (string | number)[]) => string,
): FunctionDefinition {
  const name = doc.metadata.name;
  const def = plainFunction(name, dirname(file));
  def.file = file;
  if (doc.metadata.namespace !== undefined) def.namespace = doc.metadata.namespace;
  const serving = doc.spec.serving ?? {};
  const http = serving.triggers?.http;
  def.engine = http?.engine ?? 'knative';
  const params = serving.params ?? {};
  if (params.FUNCTION_TARGET) def.target = params.FUNCTION_TARGET;
  if (params.FUNCTION_SIGNATURE_TYPE) def.signatureType = params.FUNCTION_SIGNATURE_TYPE;
  const containers = serving.template?.containers ?? [];
  const container = containers.find((c) => c.name === 'function') ?? containers[0];
  for (const e of container?.env ?? []) def.env[e.name] = e.value ?? '';
  for (const [k, v] of Object.entries(params)) def.env[k] = v;
  if (serving.timeout !== undefined) {
    const ms = parseDuration(serving.timeout);
    if (ms === undefined) {
      throw new PlatformError(
        'SPROUT_ERR_PLATFORM_INVALID_FUNCTION',
        `${at(['spec', 'serving', 'timeout'])}: field "spec.serving.timeout": not a duration (e.g. 30s, 1m)`,
      );
    }
    def.requestTimeoutSeconds = Math.ceil(ms / 1000);
  }
  def.context = functionContext(doc);
  const components = functionComponents(doc);
  if (components.length) def.components = components;
  def.routes = routesOf(doc);
  const so = serving.scaleOptions;
  if (so?.minReplicas !== undefined) def.scaling.minReplicas = so.minReplicas;
  if (so?.maxReplicas !== undefined) def.scaling.maxReplicas = so.maxReplicas;
  if (def.scaling.minReplicas > def.scaling.maxReplicas) {
    throw new PlatformError(
      'SPROUT_ERR_PLATFORM_INVALID_FUNCTION',
      `${at(['spec', 'serving', 'scaleOptions', 'minReplicas'])}: field "spec.serving.scaleOptions.minReplicas": greater than maxReplicas`,
    );
  }
  const hso = so?.keda?.httpScaledObject;
  if (hso?.targetPendingRequests !== undefined) def.scaling.targetConcurrency = hso.targetPendingRequests;
  if (hso?.cooldownPeriod !== undefined) def.scaling.scaledownPeriodMs = hso.cooldownPeriod * 1000;
  applyAnnotations(def, doc.metadata.annotations ?? {}, at);
  return def;
}

function routesOf(doc: FunctionDocument): RouteRule[] {
  const route = doc.spec.serving?.triggers?.http?.route;
  if (!route) return [];
  const hosts = route.hostnames ?? [];
  const rules: RouteRule[] = [];
  for (const rule of route.rules ?? []) {
    for (const m of rule.matches ?? [{}]) {
      const r: RouteRule = { hosts, pathPrefix: m.path?.value ?? '/' };
      if (m.headers?.length)
        r.headers = Object.fromEntries(m.headers.map((h) => [h.name.toLowerCase(), h.value]));
      rules.push(r);
    }
  }
  if (!rules.length && hosts.length) rules.push({ hosts, pathPrefix: '/' });
  return rules;
}

/** Builds the framework's FUNC_CONTEXT from the Function's serving block. */
function functionContext(doc: FunctionDocument): Record<string, unknown> {
  const serving = doc.spec.serving ?? {};
  const ctx: Record<string, unknown> = {
    name: doc.metadata.name,
    version: doc.spec.version ?? 'v1.0.0',
    runtime: 'knative',
    port: String(serving.triggers?.http?.port ?? 8080),
  };
  const typeOf = (name: string, explicit?: string) =>
    explicit ?? serving.bindings?.[name]?.type ?? serving.pubsub?.[name]?.type ?? 'bindings.http';
  if (serving.outputs?.length) {
    ctx.outputs = Object.fromEntries(
      serving.outputs.map(({ dapr }) => [
        dapr.name,
        {
          componentName: dapr.name,
          componentType: typeOf(dapr.name, dapr.type),
          ...(dapr.topic ? { uri: dapr.topic } : {}),
          ...(dapr.operation ? { operation: dapr.operation } : {}),
          ...(dapr.metadata ? { metadata: dapr.metadata } : {}),
        },
      ]),
    );
  }
  if (serving.states) {
    ctx.states = Object.fromEntries(
      Object.entries(serving.states).map(([n, s]) => [n, { componentName: n, componentType: s.spec.type }]),
    );
  }
  return ctx;
}

/** The Dapr Component documents the Function's serving block defines (states, bindings, pub/sub). */
function functionComponents(doc: FunctionDocument): Record<string, unknown>[] {
  const serving = doc.spec.serving ?? {};
  const component = (name: string, spec: unknown) => ({
    apiVersion: 'dapr.io/v1alpha1',
    kind: 'Component',
    metadata: { name },
    spec,
  });
  return [
    ...Object.entries(serving.states ?? {}).map(([n, s]) => component(n, s.spec)),
    ...Object.entries(serving.bindings ?? {}).map(([n, s]) => component(n, s)),
    ...Object.entries(serving.pubsub ?? {}).map(([n, s]) => component(n, s)),
  ];
}

function applyAnnotations(
  def: FunctionDefinition,
  annotations: Record<string, string>,
  at: (path: (string | number)[]) => string,
): void {
  for (const [key, value] of Object.entries(annotations)) {
    if (key === EIP_POOL_ANNOTATION || key === EIP_IP_ANNOTATION) {
      if (!value.trim()) {
        throw new PlatformError(
          'SPROUT_ERR_PLATFORM_INVALID_FUNCTION',
          `${at(['metadata', 'annotations', key])}: field "metadata.annotations.${key}": must not be empty`,
        );
      }
      if (key === EIP_POOL_ANNOTATION) def.expose.pool = value.trim();
      else def.expose.ip = value.trim();
      continue;
    }
    if (!key.startsWith(ANNOTATION_PREFIX)) continue;
    const knob = key.slice(ANNOTATION_PREFIX.length);
    const where = at(['metadata', 'annotations', key]);
    const fail = (why: string) =>
      new PlatformError(
        'SPROUT_ERR_PLATFORM_INVALID_FUNCTION',
        `${where}: field "metadata.annotations.${key}": ${why}`,
      );
    const duration = () => {
      const ms = parseDuration(value);
      if (ms === undefined || ms <= 0) throw fail('not a duration (e.g. 500ms, 20s, 1m)');
      return ms;
    };
    switch (knob) {
      case 'scaling-metric':
        if (value !== 'concurrency' && value !== 'requestRate' && value !== 'both')
          throw fail('must be concurrency, requestRate or both');
        def.scaling.metric = value;
        break;
      case 'target-rate': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1) throw fail('must be a positive integer');
        def.scaling.targetRate = n;
        break;
      }
      case 'rate-window':
        def.scaling.rateWindowMs = duration();
        break;
      case 'rate-granularity':
        def.scaling.rateGranularityMs = duration();
        break;
      case 'readiness-timeout':
        def.readinessTimeoutMs = duration();
        break;
      case 'response-header-timeout':
        def.responseHeaderTimeoutMs = duration();
        break;
      case 'drain-timeout':
        def.drainTimeoutMs = duration();
        break;
      case 'placeholder':
        def.placeholder = value;
        break;
      case 'expose':
        if (value !== 'true' && value !== 'false') throw fail('must be "true" or "false"');
        def.expose.enabled = value === 'true';
        break;
      case 'fallback':
        if (!/^https?:\/\/[^/]+/.test(value)) throw fail('must be an http:// or https:// URL');
        def.fallback = value;
        break;
      default:
        throw new PlatformError(
          'SPROUT_ERR_PLATFORM_UNSUPPORTED_FIELD',
          `${where}: annotation "${key}" is not one Sprout knows (${Object.keys(ANNOTATIONS)
            .map((k) => ANNOTATION_PREFIX + k)
            .join(', ')})`,
        );
    }
  }
}
