/**
 * What functions written for the anchors import as `@google-cloud/functions-framework` or
 * `@openfunction/functions-framework`: the registration API and the plugin base class. Kept free
 * of heavy imports so aliasing costs a function nothing at start-up.
 */
export { http, cloudEvent, openfunction, event, typed, getFunction } from './registry.js';
export { Plugin } from './plugin-base.js';
