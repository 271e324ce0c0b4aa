import Module, { register } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Module names functions written for the anchors import; they resolve to this framework. */
export const ANCHOR_MODULES = ['@google-cloud/functions-framework', '@openfunction/functions-framework'];

/** The ESM resolve hook, registered from a data: URL so it works from source and from dist alike. */
const HOOKS = `
let target;
export async function initialize(data) { target = data.target; }
export async function resolve(specifier, context, next) {
  if (${JSON.stringify(ANCHOR_MODULES)}.includes(specifier)) return { url: target, shortCircuit: true };
  return next(specifier, context);
}
`;

let installed = false;

/**
 * Makes `import`/`require` of the anchors' package names resolve to this framework, so a function
 * written for them runs unchanged (its `functions.http(...)` registrations land in our table).
 * Installed once per process, on demand: the ESM hook costs a loader thread.
 */
export function installAnchorAliases(): void {
  if (installed) return;
  installed = true;
  // The built entry of this package (from src/loader or dist/loader alike): registrations made
  // through it land in the same process-wide table the loader reads.
  const targetUrl = new URL('../../dist/compat.js', import.meta.url);
  const targetPath = fileURLToPath(targetUrl);
  const target = targetUrl.href;
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { data: { target } });
  const M = Module as unknown as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string;
  };
  const original = M._resolveFilename;
  M._resolveFilename = function (request: string, ...rest: unknown[]) {
    if (ANCHOR_MODULES.includes(request)) return targetPath;
    return original.call(this, request, ...rest);
  };
}
