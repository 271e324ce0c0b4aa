import { existsSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { FrameworkError } from './errors.js';
import type { InvocationContext } from './invocation.js';
import { importFunctionModule } from './loader/import.js';

/** A plugin as OpenFunction defines it: a class with a static `Name` and pre/post hooks. */
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

/**
 * Loads the plugins named in `prePlugins`/`postPlugins` from `<source>/plugins`: every file there
 * is imported and each exported class with a static `Name` is a candidate. A named plugin that is
 * not found is a startup error (the anchor drops it silently).
 */
export async function loadPlugins(sourceDir: string, names: string[]): Promise<Map<string, PluginInstance>> {
  const wanted = new Set(names);
  const out = new Map<string, PluginInstance>();
  if (wanted.size === 0) return out;
  const dir = join(sourceDir, 'plugins');
  const classes = new Map<string, PluginClass>();
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      if (!EXTENSIONS.has(extname(name)) || name.endsWith('.d.ts')) continue;
      const file = join(dir, name);
      const mod = await importFunctionModule({ file, dir, typescript: /\.[mc]?ts$/.test(name) }, false);
      for (const v of candidates(mod.namespace)) {
        if (typeof v === 'function' && typeof (v as PluginClass).Name === 'string') {
          classes.set(String((v as PluginClass).Name), v as PluginClass);
        }
      }
    }
  }
  for (const name of wanted) {
    const cls = classes.get(name);
    if (!cls) {
      throw new FrameworkError(
        'SPROUT_ERR_FRAMEWORK_PLUGIN_NOT_FOUND',
        `plugin "${name}" is named in the function context but no class with static Name = "${name}" is exported from ${dir}`,
        { field: 'prePlugins' },
      );
    }
    const instance = new cls();
    instance[PLUGIN_NAME_FIELD] = name;
    instance[PLUGIN_VERSION_FIELD] = typeof cls.Version === 'string' ? cls.Version : 'v1';
    if (typeof instance.get !== 'function') instance.get = (field: string) => instance[field];
    out.set(name, instance);
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
