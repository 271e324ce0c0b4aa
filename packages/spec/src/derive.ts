import { componentOf, type ComponentDocument } from './component.js';
import type { FunctionDocument } from './function-schema.js';
import type { ComponentRef, FunctionContext } from './context.js';
import type { RouteRule } from './resolved.js';
import type { Locator } from './yaml.js';

type Serving = NonNullable<FunctionDocument['spec']['serving']>;

/** Routing rules from `triggers.http.route`: one per match, hosts shared; empty means the default prefix. */
export function routesOf(serving: Serving): RouteRule[] {
  const route = serving.triggers?.http?.route;
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

/** OpenFunction's FUNC_CONTEXT for the Function, as its controller derives it from the serving block. */
export function contextOf(doc: FunctionDocument, version: string): FunctionContext {
  const serving = doc.spec.serving ?? {};
  const ctx: FunctionContext = {
    name: doc.metadata.name,
    version,
    runtime: 'knative',
    port: String(serving.triggers?.http?.port ?? 8080),
  };
  const typeOf = (name: string, explicit?: string) =>
    explicit ?? serving.bindings?.[name]?.type ?? serving.pubsub?.[name]?.type ?? 'bindings.http';
  if (serving.outputs?.length) {
    ctx.outputs = Object.fromEntries(
      serving.outputs.map(({ dapr }): [string, ComponentRef] => [
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

/**
 * The Dapr Components the serving block defines (states, bindings, pub/sub), validated; given the
 * function.yaml's locator, each keeps the `file:line` of its metadata items (`metadataAt`).
 */
export function componentsOf(doc: FunctionDocument, file: string, at?: Locator): ComponentDocument[] {
  const serving = doc.spec.serving ?? {};
  const ns = doc.metadata.namespace;
  const of = (kind: 'states' | 'bindings' | 'pubsub', n: string, spec: unknown) => {
    const path = ['spec', 'serving', kind, n, ...(kind === 'states' ? ['spec'] : [])];
    return componentOf(n, spec, `${file}: ${kind}.${n}`, ns, at && { at, path });
  };
  return [
    ...Object.entries(serving.states ?? {}).map(([n, s]) => of('states', n, s.spec)),
    ...Object.entries(serving.bindings ?? {}).map(([n, s]) => of('bindings', n, s)),
    ...Object.entries(serving.pubsub ?? {}).map(([n, s]) => of('pubsub', n, s)),
  ];
}
