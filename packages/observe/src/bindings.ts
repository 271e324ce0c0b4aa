import { pino, type Bindings, type ChildLoggerOptions, type LogFn, type Logger } from 'pino';
import { objectMembers } from './json-keys.js';

// pino writes a record as `{"level":…,"time":…` + the bindings text of the logger + the call's
// fields + `"msg":…`, and a child's bindings text is its parent's with the child's appended. So
// `log.child({ component: 'collector' })` under `component: 'sprout'` wrote the key twice, and a
// JSON parser read whichever it liked. Here the more specific value replaces the other instead:
// a child's binding its parent's, a call's field the logger's binding. The record's own `level`
// and `time` are the logger's, and so is `msg` when the call gives a message.

const { chindingsSym } = pino.symbols;
/** The bindings text pino keeps on each logger (`,"component":"sprout"`). */
const boundText = (log: object): string => (log as Record<symbol, string>)[chindingsSym] ?? '';
const setBoundText = (log: object, text: string): void => {
  (log as Record<symbol, string>)[chindingsSym] = uniqueBindings(text);
};

/** Keys only the logger writes: a binding of that name is dropped. */
const OWN = new Set(['level', 'time', 'msg']);

/** `,"a":1,"b":2` with each key once: the last value, in the place of the first. */
export function uniqueBindings(text: string): string {
  if (text === '') return text;
  const kept = new Map<string, string>();
  for (const m of objectMembers(`{${text.slice(1)}}`)) {
    if (!OWN.has(m.key)) kept.set(m.key, `${m.rawKey}:${m.rawValue}`);
  }
  return kept.size ? `,${[...kept.values()].join(',')}` : '';
}

const keyCache = new WeakMap<object, { text: string; keys: Set<string> }>();

/** The keys a logger's bindings write (cached per logger until its bindings change). */
function boundKeys(log: Logger): Set<string> {
  const text = boundText(log);
  const hit = keyCache.get(log);
  if (hit?.text === text) return hit.keys;
  const keys = new Set(text ? objectMembers(`{${text.slice(1)}}`).map((m) => m.key) : []);
  keyCache.set(log, { text, keys });
  return keys;
}

/**
 * pino's `logMethod` hook: a call whose fields name a bound key logs through a child bound to those
 * fields (so they replace the bindings); `level`, `time`, and `msg` beside a message, are dropped.
 */
export function uniqueFields(this: Logger, args: Parameters<LogFn>, method: LogFn): void {
  const [first, ...after] = args as unknown[];
  const keys = first && typeof first === 'object' ? boundKeys(this) : undefined;
  // pino logs an Error first argument as `err` (its message the default message).
  const error = first instanceof Error;
  if (!keys || (error && !keys.has('err'))) {
    method.apply(this, args);
    return;
  }
  const fields = (error ? { err: first } : first) as Record<string, unknown>;
  const rest = error ? [after[0] ?? first.message, ...after.slice(1)] : after;
  const hasMessage = rest[0] !== undefined;
  let rebound: Record<string, unknown> | undefined;
  let kept: Record<string, unknown> | undefined;
  for (const k of Object.keys(fields)) {
    const own = k === 'level' || k === 'time' || (k === 'msg' && hasMessage);
    if (!own && !keys.has(k)) continue;
    kept ??= { ...fields };
    if (!own) (rebound ??= {})[k] = kept[k];
    delete kept[k];
  }
  if (!kept) method.apply(this, args);
  else method.apply(rebound ? this.child(rebound) : this, [kept, ...rest] as Parameters<LogFn>);
}

/** Makes `child` and `setBindings` of `root` (and so of every logger made from it) replace keys. */
export function replaceRepeatedBindings(root: Logger): void {
  setBoundText(root, boundText(root));
  const { setBindings } = root;
  const child = root.child as unknown as (this: Logger, b: Bindings, o?: ChildLoggerOptions) => Logger;
  root.child = function (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) {
    const made = child.call(this, bindings, options);
    setBoundText(made, boundText(made));
    return made;
  } as unknown as Logger['child'];
  root.setBindings = function (this: Logger, bindings: Bindings) {
    setBindings.call(this, bindings);
    setBoundText(this, boundText(this));
  };
}
