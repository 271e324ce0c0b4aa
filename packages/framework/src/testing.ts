import { MemoryStateStore, type StateStore } from '@sprout/state';
import { createLogger } from '@sprout/observe';
import { defaultFunctionContext, parseFunctionContext, type FunctionContext } from './context.js';
import { InvocationContext, type FunctionResources } from './invocation.js';
import { MemoryOutput } from './outputs/memory.js';
import type { FunctionConfig } from './load.js';
import { serve, type RunningServer } from './serve.js';
import { FunctionState } from './state.js';

export { MemoryOutput };

export interface TestServer extends RunningServer {
  /** `fetch` against the server: `t.fetch('/path', init)`. */
  fetch(path?: string, init?: RequestInit): Promise<Response>;
  /** An in-memory output per output the context declares. */
  outputs: Record<string, MemoryOutput>;
  /** An in-memory state store per store the context declares. */
  state: Record<string, StateStore>;
}

/**
 * Serves a function on a free port with in-memory outputs and state, for tests.
 *
 * @example
 * const t = await testServer({ fn: (ctx, data) => ctx.send(data), signatureType: 'openfunction',
 *   context: { name: 'f', outputs: { out: { componentName: 'q', componentType: 'pubsub.mqtt3' } } } });
 * await t.fetch('/', { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
 * t.outputs.out.sent; // [{ data: { a: 1 }, … }]
 * await t.close();
 */
export async function testServer(
  config: FunctionConfig,
  options: { timeoutMs?: number; bodyLimit?: number } = {},
): Promise<TestServer> {
  const context = await contextFor(config);
  const outputs = Object.fromEntries(Object.keys(context.outputs ?? {}).map((n) => [n, new MemoryOutput(n)]));
  const state: Record<string, StateStore> = Object.fromEntries(
    Object.entries(context.states ?? {}).map(([n, ref]) => [n, new MemoryStateStore(ref.componentName)]),
  );
  const running = await serve({
    functions: {
      ...config,
      context,
      outputs: { ...outputs, ...config.outputs },
      stateStores: { ...state, ...config.stateStores },
    },
    port: 0,
    host: '127.0.0.1',
    logger: createLogger({ level: 'silent' }),
    ...options,
  });
  return Object.assign(running, {
    fetch: (path = '/', init?: RequestInit) => fetch(running.url + path, init),
    outputs,
    state,
  });
}

/**
 * A ctx for calling an OpenFunction-style function directly, without HTTP.
 *
 * @example
 * const { ctx, outputs } = await createTestContext({ name: 'f', outputs: { out: { componentName: 'q', componentType: 'bindings.http' } } });
 * await myFunction(ctx, { hello: 'world' });
 * outputs.out.sent.length; // 1
 */
export async function createTestContext(
  contextInput?: Partial<FunctionContext> & { name?: string },
): Promise<{
  ctx: InvocationContext;
  outputs: Record<string, MemoryOutput>;
  state: Record<string, StateStore>;
}> {
  const context = await parseFunctionContext({ ...defaultFunctionContext('test'), ...contextInput });
  const outputs = Object.fromEntries(Object.keys(context.outputs ?? {}).map((n) => [n, new MemoryOutput(n)]));
  const state: Record<string, StateStore> = Object.fromEntries(
    Object.entries(context.states ?? {}).map(([n, ref]) => [n, new MemoryStateStore(ref.componentName)]),
  );
  const resources: FunctionResources = {
    context,
    outputs: new Map(Object.entries(outputs)),
    state: new FunctionState(new Map(Object.entries(state))),
    plugins: new Map(),
    propagate: () => {},
  };
  return {
    ctx: new InvocationContext(resources, undefined, undefined, { executionId: 'test' }),
    outputs,
    state,
  };
}

async function contextFor(config: FunctionConfig): Promise<FunctionContext> {
  if (config.context === undefined) return defaultFunctionContext(config.target ?? 'function');
  return parseFunctionContext(config.context);
}
