import type { SignatureType } from './signature.js';
import type { CloudEvent } from './cloudevents.js';
import type { SproutRequest } from './http/request.js';
import type { SproutResponse } from './http/response.js';
import type { InvocationContext } from './invocation.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type HttpFunction = (req: SproutRequest, res: SproutResponse) => unknown;
export type CloudEventFunction<T = any> = (
  event: CloudEvent<T>,
  callback?: (err?: unknown, result?: unknown) => void,
) => unknown;
export type EventFunction = (
  data: any,
  context: any,
  callback?: (err?: unknown, result?: unknown) => void,
) => unknown;
export type OpenFunction<T = any> = (ctx: InvocationContext, data: T) => unknown;
export type TypedFunction<I = any, O = any> = (input: I) => O | Promise<O>;
/* eslint-enable @typescript-eslint/no-explicit-any */

export type AnyFunction = HttpFunction | CloudEventFunction | EventFunction | OpenFunction | TypedFunction;

export interface RegisteredFunction {
  name: string;
  signatureType: SignatureType;
  fn: AnyFunction;
}

type Scope = Map<string, RegisteredFunction>;
interface Registrations {
  root: Scope;
  stack: Scope[];
  /** Loads run one at a time: the scope stack is shared by every loader in the process. */
  tail: Promise<unknown>;
  /**
   * What each module registered when it was evaluated. Node evaluates a module once per process,
   * so a second load of the same file (another target from it) finds its registrations here.
   */
  byModule: Map<string, Scope>;
}

/**
 * Declarative registration is, by the anchors' API, a call on the framework module
 * (`functions.http('name', fn)`) made while the user's module is imported. The table lives under a
 * `Symbol.for` key so that a user's copy of this package and the loader's copy see the same one,
 * and each load opens its own scope so reloads and several functions in one process never mix.
 */
const KEY = Symbol.for('sprout.framework.registrations');

function registrations(): Registrations {
  const g = globalThis as unknown as Record<symbol, Registrations | undefined>;
  return (g[KEY] ??= { root: new Map(), stack: [], tail: Promise.resolve(), byModule: new Map() });
}

function register(name: string, signatureType: SignatureType, fn: AnyFunction): void {
  if (typeof name !== 'string' || !name) throw new TypeError('a registered function needs a name');
  if (typeof fn !== 'function') throw new TypeError(`registered function "${name}" is not a function`);
  const r = registrations();
  (r.stack.at(-1) ?? r.root).set(name, { name, signatureType, fn });
}

/** Registers an HTTP function under `name` (`--target name`). */
export function http(name: string, fn: HttpFunction): void {
  register(name, 'http', fn);
}
/** Registers a CloudEvent function under `name`. */
export function cloudEvent<T = unknown>(name: string, fn: CloudEventFunction<T>): void {
  register(name, 'cloudevent', fn as CloudEventFunction);
}
/** Registers an OpenFunction `(ctx, data)` function under `name`. */
export function openfunction<T = unknown>(name: string, fn: OpenFunction<T>): void {
  register(name, 'openfunction', fn as OpenFunction);
}
/** Registers a legacy background-event function `(data, context)` under `name`. */
export function event(name: string, fn: EventFunction): void {
  register(name, 'event', fn);
}
/** Registers a typed function: the JSON request body in, the JSON response out. */
export function typed<I, O>(name: string, fn: TypedFunction<I, O>): void {
  register(name, 'typed', fn as TypedFunction);
}

/** A function registered outside a load (e.g. by a test), as the anchors' `getFunction`. */
export function getFunction(name: string): AnyFunction | undefined {
  return registrations().root.get(name)?.fn;
}

/**
 * Runs `load` (an import of `moduleKey`) with a fresh registration scope and returns what it
 * registered; when the module was already evaluated earlier, what it registered then.
 */
export async function withRegistrationScope<T>(
  moduleKey: string,
  load: () => Promise<T>,
): Promise<{ value: T; registered: Scope }> {
  const r = registrations();
  const run = async () => {
    const scope: Scope = new Map();
    r.stack.push(scope);
    try {
      const value = await load();
      if (scope.size > 0) r.byModule.set(moduleKey, scope);
      return { value, registered: scope.size > 0 ? scope : (r.byModule.get(moduleKey) ?? scope) };
    } finally {
      r.stack.splice(r.stack.lastIndexOf(scope), 1);
    }
  };
  const result = r.tail.then(run, run);
  r.tail = result.catch(() => undefined);
  return result;
}
