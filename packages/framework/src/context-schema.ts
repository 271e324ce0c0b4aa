import type { ComponentRef, FunctionContext, TracingConfig } from './context.js';

/**
 * The FUNC_CONTEXT schema, written as a small checker rather than with a schema library: every
 * OpenFunction deployment passes a context, and loading a schema library cost a function's cold
 * start hundreds of milliseconds. Each check names the path of the field at fault.
 */
export class ContextIssue extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const at = (path: string[], key: string | number) => [...path, String(key)];
const fail = (path: string[], message: string): never => {
  throw new ContextIssue(path.length ? path.join('.') : '(root)', message);
};

function object(v: unknown, path: string[]): Obj {
  return isObj(v) ? v : fail(path, `expected an object, got ${Array.isArray(v) ? 'an array' : typeof v}`);
}

function str(v: unknown, path: string[], nonEmpty = false): string {
  if (typeof v !== 'string') return fail(path, `expected a string, got ${v === null ? 'null' : typeof v}`);
  if (nonEmpty && v === '') fail(path, 'must not be empty');
  return v;
}

function optStr(o: Obj, key: string, path: string[]): string | undefined {
  return o[key] === undefined ? undefined : str(o[key], at(path, key));
}

function stringMap(v: unknown, path: string[]): Record<string, string> {
  const o = object(v, path);
  for (const [k, x] of Object.entries(o)) str(x, at(path, k));
  return o as Record<string, string>;
}

const COMPONENT_TYPE = /^(bindings|pubsub|state)\.[A-Za-z0-9._-]+$/;

function component(v: unknown, path: string[]): ComponentRef {
  const o = object(v, path);
  str(o.componentName, at(path, 'componentName'), true);
  const type = str(o.componentType, at(path, 'componentType'));
  if (!COMPONENT_TYPE.test(type)) {
    fail(
      at(path, 'componentType'),
      `"${type}" must look like bindings.<type>, pubsub.<type> or state.<type>`,
    );
  }
  optStr(o, 'uri', path);
  optStr(o, 'operation', path);
  if (o.metadata !== undefined) stringMap(o.metadata, at(path, 'metadata'));
  return o as ComponentRef;
}

function components(v: unknown, path: string[]): Record<string, ComponentRef> {
  const o = object(v, path);
  for (const [k, c] of Object.entries(o)) component(c, at(path, k));
  return o as Record<string, ComponentRef>;
}

function stringList(v: unknown, path: string[]): string[] {
  if (!Array.isArray(v)) return fail(path, `expected an array of plugin names, got ${typeof v}`);
  v.forEach((x, i) => str(x, at(path, i)));
  return v as string[];
}

function tracing(v: unknown, path: string[]): TracingConfig {
  const o = object(v, path);
  if (typeof o.enabled !== 'boolean') fail(at(path, 'enabled'), 'expected true or false');
  if (o.provider !== undefined) {
    const p = object(o.provider, at(path, 'provider'));
    str(p.name, at(at(path, 'provider'), 'name'));
    optStr(p, 'oapServer', at(path, 'provider'));
    if (p.exporter !== undefined) {
      const e = object(p.exporter, at(at(path, 'provider'), 'exporter'));
      optStr(e, 'endpoint', at(at(path, 'provider'), 'exporter'));
      optStr(e, 'protocol', at(at(path, 'provider'), 'exporter'));
    }
  }
  if (o.tags !== undefined) stringMap(o.tags, at(path, 'tags'));
  if (o.baggage !== undefined) stringMap(o.baggage, at(path, 'baggage'));
  return o as TracingConfig;
}

/**
 * Checks a parsed FUNC_CONTEXT and fills defaults (version `v1.0.0`, runtime `knative`, lower-cased).
 * Known fields are checked; fields OpenFunction's controller adds that Sprout does not use pass through.
 */
export function checkFunctionContext(raw: unknown): FunctionContext {
  const o = object(raw, []);
  str(o.name, ['name'], true);
  const version = o.version === undefined ? 'v1.0.0' : str(o.version, ['version']);
  const runtimeRaw = o.runtime === undefined ? 'knative' : str(o.runtime, ['runtime']).toLowerCase();
  if (runtimeRaw !== 'knative' && runtimeRaw !== 'async')
    fail(['runtime'], `"${String(o.runtime)}" must be knative or async`);
  if (o.port !== undefined) {
    const ok =
      (typeof o.port === 'string' && /^\d+$/.test(o.port)) ||
      (typeof o.port === 'number' && Number.isInteger(o.port));
    if (!ok) fail(['port'], `"${String(o.port)}" is not a port number`);
  }
  for (const key of ['inputs', 'outputs', 'states'] as const)
    if (o[key] !== undefined) components(o[key], [key]);
  for (const key of ['prePlugins', 'postPlugins'] as const)
    if (o[key] !== undefined) stringList(o[key], [key]);
  for (const key of ['pluginsTracing', 'tracing'] as const) if (o[key] !== undefined) tracing(o[key], [key]);
  return { ...o, version, runtime: runtimeRaw as 'knative' | 'async' } as FunctionContext;
}
