import { existsSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { FrameworkError } from './errors.js';
import type { InvocationContext } from './invocation.js';
import { importFunctionModule } from './loader/import.js';

/** A plugin as OpenFunction defines it: a named class with pre/post hooks. */
export interface PluginInstance {
  execPreHook?(ctx: InvocationContext, plugins: Record<string, PluginInstance>): unknown;
  execPostHook?(ctx: InvocationContext, plugins: Record<string, PluginInstance>): unknown;
  get?(field: string): unknown;
  [field: string]: unknown;
}

type PluginClass = (new () => PluginInstance) & { Name?: unknown; Version?: unknown };

export const PLUGIN_NAME_FIELD = 'ofn_plugin_name';
export const PLUGIN_VERSION_FIELD = 'ofn_plugin_version';

const EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);

/** A class exported from a plugins file: named by `static Name`, or a class with hooks (named by its constructor). */
function isPluginClass(v: unknown): v is PluginClass {
  if (typeof v !== 'function' || !v.prototype) return false;
  if (typeof (v as PluginClass).Name === 'string') return true;
  const proto = v.prototype as PluginInstance;
  return typeof proto.execPreHook === 'function' || typeof proto.execPostHook === 'function';
}

/** The instance and name of a plugin class, or why it cannot be used. */
function instantiate(cls: PluginClass): { name: string; version: string; instance: PluginInstance } | string {
  let instance: PluginInstance;
  try {
    instance = new cls();
  } catch (err) {
    return `its constructor threw: ${(err as Error)?.message ?? String(err)}`;
  }
  const name = typeof cls.Name === 'string' ? cls.Name : instance.name;
  if (typeof name !== 'string' || !name.trim()) {
    return typeof cls.Name === 'string' || name !== undefined ? 'its name is blank' : 'it has no name';
  }
  const version = typeof cls.Version === 'string' ? cls.Version : instance.version;
  return { name, version: typeof version === 'string' ? version : 'v1', instance };
}

/**
 * Loads the plugins of `<source>/plugins` when `prePlugins`/`postPlugins` name any: every file there
 * is imported and every exported plugin class instantiated once, named by its static `Name` or, as
 * OpenFunction 0.6 does, by the name its constructor passes to `Plugin` (all of them are in the
 * `plugins` argument hooks receive, as in OpenFunction's store). A named plugin that is not found is
 * a startup error naming the classes that could not be used (the anchor drops it silently).
 */
export async function loadPlugins(sourceDir: string, names: string[]): Promise<Map<string, PluginInstance>> {
  const wanted = new Set(names);
  const out = new Map<string, PluginInstance>();
  if (wanted.size === 0) return out;
  const dir = join(sourceDir, 'plugins');
  const unusable: string[] = [];
  if (existsSync(dir)) {
    for (const file of readdirSync(dir).sort()) {
      if (!EXTENSIONS.has(extname(file)) || file.endsWith('.d.ts')) continue;
      const path = join(dir, file);
      const mod = await importFunctionModule({ file: path, dir, typescript: /\.[mc]?ts$/.test(file) }, false);
      for (const cls of new Set(candidates(mod.namespace).filter(isPluginClass))) {
        const made = instantiate(cls);
        if (typeof made === 'string') {
          unusable.push(`${cls.name || 'a class'} in ${file} (${made})`);
          continue;
        }
        made.instance[PLUGIN_NAME_FIELD] = made.name;
        made.instance[PLUGIN_VERSION_FIELD] = made.version;
        if (typeof made.instance.get !== 'function')
          made.instance.get = (field: string) => made.instance[field];
        out.set(made.name, made.instance);
      }
    }
  }
  for (const name of wanted) {
    if (out.has(name)) continue;
    const why = unusable.length ? `; not usable there: ${unusable.join(', ')}` : '';
    throw new FrameworkError(
      'SPROUT_ERR_FRAMEWORK_PLUGIN_NOT_FOUND',
      `plugin "${name}" is named in the function context but no plugin class in ${dir} has that name (static Name, or the name its constructor gives Plugin)${why}`,
      { field: 'prePlugins' },
    );
  }
  return out;
}

function candidates(ns: Record<string, unknown>): unknown[] {
  const list: unknown[] = Object.values(ns);
  const def = ns.default;
  if (def && typeof def === 'object') list.push(...Object.values(def));
  return list;
}

/**
 * Runs hooks in the anchor's order around `run`: user pre hooks (in `prePlugins` order), built-in
 * pre, the function, built-in post, user post hooks (in `postPlugins` order). Post hooks run even
 * when the function threw (they see `ctx.error`); the error is rethrown after them.
 */
export async function runWithPlugins<T>(
  ctx: InvocationContext,
  plugins: ReadonlyMap<string, PluginInstance>,
  pre: readonly string[],
  post: readonly string[],
  run: () => Promise<T>,
): Promise<T | undefined> {
  // No hooks (the common case): the function's own promise, nothing built around it per call.
  if (pre.length === 0 && post.length === 0) return run();
  const all = Object.fromEntries(plugins);
  for (const name of pre) await hook(plugins.get(name), 'execPreHook', ctx, all, name);
  let result: T | undefined;
  try {
    result = await run();
  } catch (err) {
    ctx.error = err;
  }
  for (const name of post) await hook(plugins.get(name), 'execPostHook', ctx, all, name);
  if (ctx.error !== undefined) throw ctx.error;
  return result;
}

async function hook(
  plugin: PluginInstance | undefined,
  which: 'execPreHook' | 'execPostHook',
  ctx: InvocationContext,
  all: Record<string, PluginInstance>,
  name: string,
): Promise<void> {
  const fn = plugin?.[which];
  if (typeof fn !== 'function') return;
  try {
    await fn.call(plugin, ctx, all);
  } catch (err) {
    throw new FrameworkError(
      'SPROUT_ERR_FRAMEWORK_PLUGIN_FAILED',
      `plugin "${name}" ${which} threw: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}
