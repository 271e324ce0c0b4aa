import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OutputBindingEngine } from '../broker.js';
import { isTriggersError } from '../errors.js';
import { DaprApiError, readRequestBody } from './respond.js';

export interface BindingScope {
  readonly maxBody: number;
  /** The output binding of that name, or undefined. */
  binding(name: string): OutputBindingEngine | undefined;
  onInvoked?(binding: string, operation: string, ok: boolean): void;
}

/** A metadata key that can be an HTTP header name (others are not answered as headers). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function malformed(message: string): DaprApiError {
  return new DaprApiError(
    'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
    'ERR_MALFORMED_REQUEST',
    400,
    `failed deserializing HTTP body: ${message}`,
  );
}

function invokeFailed(name: string, err: unknown): DaprApiError {
  return new DaprApiError(
    isTriggersError(err) ? err.code : 'SPROUT_ERR_TRIGGERS_BINDING_FAILED',
    'ERR_INVOKE_OUTPUT_BINDING',
    500,
    `error invoking output binding ${name}: ${(err as Error).message}`,
    { cause: err },
  );
}

/**
 * POST /v1.0/bindings/{name} with `{data, metadata, operation}`: the binding gets `data` as JSON
 * bytes (a string arrives quoted, as daprd sends it) and the metadata; its answer comes back as 200
 * with the data (or 204 when it has none) and its metadata as `metadata.<key>` headers.
 */
export async function invokeBinding(
  scope: BindingScope,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
): Promise<void> {
  const body = await readRequestBody(req, scope.maxBody);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw malformed((err as Error).message);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw malformed('the body must be a JSON object {data, metadata, operation}');
  const { data, metadata, operation } = parsed as Record<string, unknown>;
  if (operation !== undefined && typeof operation !== 'string') throw malformed('operation must be a string');
  const meta: Record<string, string> = {};
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== 'object' || Array.isArray(metadata))
      throw malformed('metadata must be an object of strings');
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw malformed(`metadata.${k} must be a string`);
      meta[k] = v;
    }
  }
  const traceparent = req.headers.traceparent;
  if (typeof traceparent === 'string') meta.traceparent ??= traceparent;
  const engine = scope.binding(name);
  if (!engine) {
    scope.onInvoked?.(name, operation ?? '', false);
    throw new DaprApiError(
      'SPROUT_ERR_TRIGGERS_BINDING_NOT_FOUND',
      'ERR_INVOKE_OUTPUT_BINDING',
      500,
      `error invoking output binding ${name}: couldn't find output binding ${name}`,
      { field: 'name' },
    );
  }
  let answer;
  try {
    answer = await engine.invoke(operation ?? '', Buffer.from(JSON.stringify(data ?? null), 'utf8'), meta);
  } catch (err) {
    scope.onInvoked?.(name, operation ?? '', false);
    throw invokeFailed(name, err);
  }
  scope.onInvoked?.(name, operation ?? '', true);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(answer.metadata ?? {})) {
    if (HEADER_NAME.test(k) && !/[\r\n\0]/.test(v)) headers[`metadata.${k}`] = v;
  }
  if (answer.data === undefined) {
    res.writeHead(204, headers).end();
    return;
  }
  res
    .writeHead(200, {
      'content-type': 'application/json',
      'content-length': answer.data.byteLength,
      ...headers,
    })
    .end(answer.data);
}
