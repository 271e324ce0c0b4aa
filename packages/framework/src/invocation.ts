import type { ComponentRef, FunctionContext, TracingConfig } from './context.js';
import { OutputError } from './errors.js';
import type { SproutRequest } from './http/request.js';
import type { SproutResponse } from './http/response.js';
import type { Output } from './outputs/output.js';
import type { PluginInstance } from './plugins.js';
import type { FunctionState } from './state.js';

/** What one loaded function shares across its invocations. */
export interface FunctionResources {
  readonly context: FunctionContext;
  /** By output name; undefined when the output has no local engine and no sidecar. */
  readonly outputs: ReadonlyMap<string, Output | undefined>;
  readonly state: FunctionState;
  readonly plugins: ReadonlyMap<string, PluginInstance>;
  /** Adds trace headers (W3C traceparent) for an outgoing call. */
  readonly propagate: (headers: Record<string, string>) => void;
}

/** The result of delivering to one output. */
export interface SendResult {
  output: string;
  result: unknown;
}

/**
 * The `ctx` an OpenFunction-style function receives. A fresh one per invocation (the anchor shares
 * one mutable object across concurrent requests); the function context's fields are read-only.
 */
export class InvocationContext {
  #locals: Record<string, unknown> | undefined;
  /** Scratch space for this invocation, shared with plugins. Made on first use. */
  get locals(): Record<string, unknown> {
    return (this.#locals ??= {});
  }
  /** The error the function threw, visible to post hooks. */
  error: unknown = undefined;
  /** The name of the input that triggered this invocation (async runtime). */
  readonly input: string | undefined;

  #executionId: string | undefined;
  #signal: AbortSignal | undefined;

  constructor(
    private readonly resources: FunctionResources,
    readonly req: SproutRequest | undefined,
    readonly res: SproutResponse | undefined,
    options?: { input?: string; executionId?: string; signal?: AbortSignal },
  ) {
    this.input = options?.input;
    this.#executionId = options?.executionId;
    this.#signal = options?.signal;
  }

  // Read from the request on first use: most functions never look, and a generated id or an
  // AbortController made for every call showed in the openfunction profile.
  get executionId(): string {
    return (this.#executionId ??= this.req?.executionId ?? '');
  }
  get signal(): AbortSignal {
    return (this.#signal ??= this.req?.signal ?? new AbortController().signal);
  }

  get name(): string {
    return this.resources.context.name;
  }
  get version(): string {
    return this.resources.context.version;
  }
  get runtime(): 'knative' | 'async' {
    return this.resources.context.runtime;
  }
  get port(): string | number | undefined {
    return this.resources.context.port;
  }
  get inputs(): Readonly<Record<string, ComponentRef>> | undefined {
    return this.resources.context.inputs;
  }
  get outputs(): Readonly<Record<string, ComponentRef>> | undefined {
    return this.resources.context.outputs;
  }
  get states(): Readonly<Record<string, ComponentRef>> | undefined {
    return this.resources.context.states;
  }
  get prePlugins(): readonly string[] {
    return this.resources.context.prePlugins ?? [];
  }
  get postPlugins(): readonly string[] {
    return this.resources.context.postPlugins ?? [];
  }
  get pluginsTracing(): TracingConfig | undefined {
    return this.resources.context.pluginsTracing;
  }
  /** The Dapr sidecar ports, as the anchor exposes them. */
  get sidecarPort(): { HTTP: string; GRPC: string } {
    return { HTTP: process.env.DAPR_HTTP_PORT ?? '3500', GRPC: process.env.DAPR_GRPC_PORT ?? '50001' };
  }

  /** The function's state stores. */
  get state(): FunctionState {
    return this.resources.state;
  }

  /** A plugin instance by name. */
  getPlugin(name: string): PluginInstance | undefined {
    return this.resources.plugins.get(name);
  }

  /**
   * Sends `data` to one output by name, or to every output. Resolves with each output's result;
   * rejects with an OutputError naming the output when any delivery fails (all are attempted).
   */
  async send(data: unknown, output?: string): Promise<SendResult[]> {
    const declared = this.resources.context.outputs ?? {};
    const names = output === undefined ? Object.keys(declared) : [output];
    if (output !== undefined && !declared[output]) {
      throw new OutputError(
        'SPROUT_ERR_FRAMEWORK_UNKNOWN_OUTPUT',
        output,
        `no output "${output}" in the function context; declared: ${Object.keys(declared).join(', ') || 'none'}`,
      );
    }
    const headers: Record<string, string> = {};
    this.resources.propagate(headers);
    const settled = await Promise.allSettled(
      names.map(async (name) => {
        const target = this.resources.outputs.get(name);
        const ref = declared[name]!;
        if (!target) {
          throw new Error(
            `component "${ref.componentName}" (${ref.componentType}) has no local engine and no Dapr sidecar is configured: ` +
              'add its Dapr component YAML to the resources path, or set DAPR_HTTP_PORT',
          );
        }
        return { output: name, result: await target.send(data, ref, headers) };
      }),
    );
    const failed = settled.findIndex((s) => s.status === 'rejected');
    if (failed >= 0) {
      const name = names[failed]!;
      const reason = (settled[failed] as PromiseRejectedResult).reason as Error;
      throw new OutputError(
        'SPROUT_ERR_FRAMEWORK_OUTPUT_FAILED',
        name,
        `sending to output "${name}" failed: ${reason.message}`,
        {
          cause: reason,
        },
      );
    }
    return settled.map((s) => (s as PromiseFulfilledResult<SendResult>).value);
  }
}
