import type { Logger } from '@sprout/observe';
import type { StateStore } from '@sprout/state';
import {
  defaultFunctionContext,
  parseFunctionContext,
  type ComponentRef,
  type FunctionContext,
} from './context.js';
import type { FunctionResources } from './invocation.js';
import { importFunctionModule } from './loader/import.js';
import { resolveFunctionModule, type FunctionModule } from './loader/resolve.js';
import { findTarget } from './loader/target.js';
import type { ComponentSpec, Output } from './outputs/index.js';
import { loadPlugins } from './plugins.js';
import type {
  AnyFunction,
  CloudEventFunction,
  EventFunction,
  HttpFunction,
  OpenFunction,
  TypedFunction,
} from './registry.js';
import type { SignatureType } from './signature.js';
import type { Invoker } from './signatures/invoker.js';
import { FunctionState } from './state.js';
import { createTracing, type Tracing } from './tracing.js';

/** One function to serve: where its code is (or the function itself), how to call it, where to mount it. */
export interface FunctionConfig {
  /** Folder or file with the function's code. Ignored when `fn` is given. */
  source?: string;
  /** The export or registration to run (dotted paths reach into objects). */
  target?: string;
  /** Defaults to the registration's type, else `http`. */
  signatureType?: SignatureType;
  /** The function itself, for programmatic use and tests. */
  fn?: AnyFunction;
  /** Mount path when several functions share a process; '' (the root) by default. */
  path?: string;
  /** OpenFunction's FUNC_CONTEXT, as JSON text or an object. */
  context?: string | FunctionContext;
  /** Dapr component specs for outputs that run natively (bindings.http, mqtt3, …). */
  components?: ComponentSpec[];
  /** State stores by the name used in `states`. */
  stateStores?: Record<string, StateStore>;
  /**
   * Opens the store for a declared state that `stateStores` does not give (the CLI backs this with
   * @sprout/state's engines). Without it such a state gets an in-memory store.
   */
  openStateStore?: (name: string, ref: ComponentRef, context: FunctionContext) => Promise<StateStore>;
  /** Outputs by name, replacing the engine the framework would pick (tests). */
  outputs?: Record<string, Output>;
}

export interface LoadedFunction {
  name: string;
  signatureType: SignatureType;
  invoker: Invoker;
  resources: FunctionResources;
  tracing: Tracing | undefined;
  module: FunctionModule | undefined;
  /** Files to watch for reloads. */
  files: string[];
  close(): Promise<void>;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Load a fresh module graph (reloads). */
  fresh?: boolean;
  /** Reuse these resources (a reload keeps state stores, outputs and plugins). */
  resources?: FunctionResources;
  tracing?: Tracing | undefined;
  /** Where a tracing set-up that fails is reported (it never stops the function from starting). */
  logger?: Logger;
}

/** Loads a function and everything its context declares, ready to mount. */
export async function loadFunction(
  config: FunctionConfig,
  options: LoadOptions = {},
): Promise<LoadedFunction> {
  const env = options.env ?? process.env;
  let fn: AnyFunction;
  let name: string;
  let registeredType: SignatureType | undefined;
  let module: FunctionModule | undefined;
  let files: string[] = [];
  if (config.fn) {
    fn = config.fn;
    name = config.target ?? (fn.name || 'function');
  } else {
    module = resolveFunctionModule(config.source ?? '.');
    const imported = await importFunctionModule(module, options.fresh ?? false);
    const target = findTarget(imported, config.target, module.file);
    fn = target.fn;
    name = target.name;
    registeredType = target.signatureType;
    files = imported.files;
  }
  let resources = options.resources;
  const context =
    resources?.context ??
    (config.context === undefined
      ? defaultFunctionContext(name)
      : await parseFunctionContext(config.context));
  // As OpenFunction: the async runtime always serves `(ctx, data)` behind the Dapr app callbacks;
  // knative serves the signature the function registers or is given.
  const signatureType: SignatureType =
    context.runtime === 'async' ? 'openfunction' : (registeredType ?? config.signatureType ?? 'http');
  let tracing = options.tracing;
  const owned: { close(): Promise<void> }[] = [];
  if (!resources) {
    const outputs = new Map<string, Output | undefined>();
    for (const [outName, ref] of Object.entries(context.outputs ?? {})) {
      const out =
        config.outputs?.[outName] ??
        (await import('./outputs/index.js')).createOutput(
          outName,
          ref,
          config.components ?? [],
          env,
          context.name,
        );
      outputs.set(outName, out);
      if (out && !config.outputs?.[outName]) owned.push(out);
    }
    const stores = new Map<string, StateStore>();
    for (const [storeName, ref] of Object.entries(context.states ?? {})) {
      const store =
        config.stateStores?.[storeName] ??
        (config.openStateStore
          ? await config.openStateStore(storeName, ref, context)
          : await memoryStore(ref.componentName));
      stores.set(storeName, store);
      if (!config.stateStores?.[storeName]) owned.push(store);
    }
    for (const [storeName, store] of Object.entries(config.stateStores ?? {})) {
      if (!stores.has(storeName)) stores.set(storeName, store);
    }
    const pluginNames = [...(context.prePlugins ?? []), ...(context.postPlugins ?? [])];
    const plugins = await loadPlugins(module?.dir ?? process.cwd(), pluginNames);
    tracing = await createTracing(context.pluginsTracing, context.name, options.logger);
    const t = tracing;
    resources = {
      context,
      outputs,
      state: new FunctionState(stores),
      plugins,
      propagate: (headers) => t?.inject(headers),
    };
  }
  return {
    name,
    signatureType,
    invoker: await createInvoker(signatureType, fn, resources, options.logger),
    resources,
    tracing,
    module,
    files,
    close: async () => {
      await Promise.allSettled(owned.map((o) => o.close()));
    },
  };
}

/** The invoker for a signature; only the one the function uses is loaded. */
async function createInvoker(
  type: SignatureType,
  fn: AnyFunction,
  resources: FunctionResources,
  logger: Logger | undefined,
): Promise<Invoker> {
  switch (type) {
    case 'http':
      return (await import('./signatures/http.js')).httpInvoker(fn as HttpFunction);
    case 'cloudevent':
      return (await import('./signatures/cloudevent.js')).cloudEventInvoker(fn as CloudEventFunction);
    case 'event':
      return (await import('./signatures/event.js')).eventInvoker(fn as EventFunction);
    case 'typed':
      return (await import('./signatures/typed.js')).typedInvoker(fn as TypedFunction);
    case 'openfunction':
      return (await import('./signatures/openfunction.js')).openFunctionInvoker(
        fn as OpenFunction,
        resources,
        logger,
      );
  }
}

/** An in-memory store, loaded only for functions that declare state. */
async function memoryStore(name: string): Promise<StateStore> {
  const { MemoryStateStore } = await import('@sprout/state');
  return new MemoryStateStore(name);
}
