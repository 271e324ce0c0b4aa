import { checkFunctionContext, ContextIssue } from './context-schema.js';
import type { FunctionContext } from '@sprout/spec';
import { FrameworkError } from './errors.js';

export type { ComponentRef, TracingConfig, FunctionContext } from '@sprout/spec';

/**
 * Parses FUNC_CONTEXT (a JSON string, or an already-parsed object). An invalid context is an error
 * naming the field, never a silent `undefined` as in the anchor.
 *
 * @example
 * await parseFunctionContext('{"name":"hello","runtime":"knative","outputs":{}}');
 */
export async function parseFunctionContext(input: string | object): Promise<FunctionContext> {
  let raw: unknown = input;
  if (typeof input === 'string') {
    const text = input.trim();
    try {
      raw = JSON.parse(text);
    } catch (err) {
      // OpenFunction's Go framework also accepts the context base64-encoded.
      const decoded = /^[A-Za-z0-9+/=\s]+$/.test(text) ? Buffer.from(text, 'base64').toString('utf8') : '';
      try {
        raw = JSON.parse(decoded);
      } catch {
        throw new FrameworkError(
          'SPROUT_ERR_FRAMEWORK_INVALID_CONTEXT',
          `FUNC_CONTEXT is not valid JSON: ${(err as Error).message}`,
          { field: 'FUNC_CONTEXT' },
        );
      }
    }
  }
  let ctx: FunctionContext;
  try {
    ctx = checkFunctionContext(raw);
  } catch (err) {
    if (!(err instanceof ContextIssue)) throw err;
    throw new FrameworkError(
      'SPROUT_ERR_FRAMEWORK_INVALID_CONTEXT',
      `FUNC_CONTEXT field "${err.path}": ${err.message}`,
      {
        field: err.path,
      },
    );
  }
  if (!ctx.pluginsTracing && ctx.tracing) ctx.pluginsTracing = ctx.tracing;
  return ctx;
}

/** The context a plain function gets when no FUNC_CONTEXT is given. */
export function defaultFunctionContext(name: string): FunctionContext {
  return { name, version: 'v1.0.0', runtime: 'knative' };
}
