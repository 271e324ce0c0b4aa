import type { InvocationContext } from './invocation.js';

/**
 * A base class for plugins, as OpenFunction's `Plugin`. A subclass names itself either with
 * `static Name` (and optionally `static Version`) or, as OpenFunction 0.6's plugins do, by calling
 * `super(name, version)`; it overrides the hooks it needs.
 *
 * @example
 * export class Counter extends Plugin {
 *   static Name = 'counter';
 *   count = 0;
 *   async execPreHook() { this.count++; }
 * }
 * export class TickTock extends Plugin {
 *   constructor() { super('ticktock', 'v1'); }
 * }
 */
export class Plugin {
  static OFN_PLUGIN_NAME = 'ofn_plugin_name';
  static OFN_PLUGIN_VERSION = 'ofn_plugin_version';
  [field: string]: unknown;

  /**
   * `name` and `version` as OpenFunction's constructor takes them. A blank name is kept here and
   * refused by the loader (OpenFunction throws from the constructor), so the class is not loaded.
   */
  constructor(name?: string, version = 'unknown') {
    if (name !== undefined) {
      this.name = name;
      this.version = version;
    }
  }

  async execPreHook(_ctx?: InvocationContext, _plugins?: Record<string, Plugin>): Promise<void> {}
  async execPostHook(_ctx?: InvocationContext, _plugins?: Record<string, Plugin>): Promise<void> {}
  get(field: string): unknown {
    return this[field];
  }
}
