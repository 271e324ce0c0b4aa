import type { InvocationContext } from './invocation.js';

/**
 * A base class for plugins, as OpenFunction's `Plugin`: subclasses set `static Name` (and
 * optionally `static Version`) and override the hooks they need.
 *
 * @example
 * export class Counter extends Plugin {
 *   static Name = 'counter';
 *   count = 0;
 *   async execPreHook() { this.count++; }
 * }
 */
export class Plugin {
  static OFN_PLUGIN_NAME = 'ofn_plugin_name';
  static OFN_PLUGIN_VERSION = 'ofn_plugin_version';
  [field: string]: unknown;

  async execPreHook(_ctx?: InvocationContext, _plugins?: Record<string, Plugin>): Promise<void> {}
  async execPostHook(_ctx?: InvocationContext, _plugins?: Record<string, Plugin>): Promise<void> {}
  get(field: string): unknown {
    return this[field];
  }
}
