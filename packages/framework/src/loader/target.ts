import { FrameworkError } from '../errors.js';
import type { AnyFunction, RegisteredFunction } from '../registry.js';
import type { SignatureType } from '../signature.js';
import type { ImportedModule } from './import.js';

export interface ResolvedTarget {
  name: string;
  fn: AnyFunction;
  /** Set when the function was registered declaratively, which fixes its signature type. */
  signatureType?: SignatureType;
}

/**
 * Finds the target in an imported module: a declarative registration by that name first, then an
 * export at the dotted path (`handlers.hello`), looking through a CommonJS `default` as well.
 * With no explicit target: `function` (the anchors' default), the only registration, the default
 * export, or the only exported function, in that order.
 */
export function findTarget(mod: ImportedModule, target: string | undefined, file: string): ResolvedTarget {
  const fromRegistration = (r: RegisteredFunction): ResolvedTarget => ({
    name: r.name,
    fn: r.fn,
    signatureType: r.signatureType,
  });
  const lookup = (path: string): unknown => {
    const parts = path.split('.');
    for (const root of [mod.namespace, mod.namespace.default as Record<string, unknown> | undefined]) {
      let v: unknown = root;
      for (const p of parts)
        v =
          v && (typeof v === 'object' || typeof v === 'function')
            ? (v as Record<string, unknown>)[p]
            : undefined;
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const asTarget = (name: string, v: unknown): ResolvedTarget => {
    if (typeof v !== 'function') {
      throw new FrameworkError(
        'SPROUT_ERR_FRAMEWORK_TARGET_NOT_FUNCTION',
        `target "${name}" in ${file} is a ${v === null ? 'null' : typeof v}, not a function`,
        { field: '--target' },
      );
    }
    return { name, fn: v as AnyFunction };
  };

  if (target) {
    const reg = mod.registered.get(target);
    if (reg) return fromRegistration(reg);
    const v = lookup(target);
    if (v !== undefined) return asTarget(target, v);
    throw notFound(target, mod, file);
  }
  const fnExport = lookup('function');
  if (fnExport !== undefined) return asTarget('function', fnExport);
  if (mod.registered.size === 1) return fromRegistration([...mod.registered.values()][0]!);
  if (typeof mod.namespace.default === 'function') return asTarget('default', mod.namespace.default);
  const fns = exportedFunctions(mod);
  if (fns.length === 1) return asTarget(fns[0]!, lookup(fns[0]!));
  throw notFound(undefined, mod, file);
}

function exportedFunctions(mod: ImportedModule): string[] {
  const names = new Set<string>();
  for (const root of [mod.namespace, mod.namespace.default]) {
    if (root && (typeof root === 'object' || typeof root === 'function')) {
      for (const [k, v] of Object.entries(root)) if (typeof v === 'function' && k !== 'default') names.add(k);
    }
  }
  return [...names];
}

function notFound(target: string | undefined, mod: ImportedModule, file: string): FrameworkError {
  const available = [...mod.registered.keys(), ...exportedFunctions(mod)];
  const list = available.length
    ? `available: ${[...new Set(available)].join(', ')}`
    : 'it exports and registers no function';
  return new FrameworkError(
    'SPROUT_ERR_FRAMEWORK_TARGET_NOT_FOUND',
    target
      ? `function "${target}" is not exported or registered by ${file} (${list}); set --target / FUNCTION_TARGET`
      : `no target given and ${file} has no single obvious function (${list}); set --target / FUNCTION_TARGET`,
    { field: '--target' },
  );
}
