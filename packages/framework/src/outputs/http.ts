import type { ComponentRef } from '../context.js';
import type { ComponentSpec, Output } from './output.js';

/**
 * Dapr's `bindings.http` output, natively: the operation is the HTTP method (`create` and `post`
 * mean POST), the component's `url` metadata is the base and the request's `path` metadata is appended.
 */
export class HttpBindingOutput implements Output {
  constructor(
    readonly name: string,
    private readonly spec: ComponentSpec,
  ) {}

  async send(data: unknown, ref: ComponentRef, headers: Record<string, string>): Promise<unknown> {
    const op = (ref.operation ?? 'create').toLowerCase();
    const method = op === 'create' ? 'POST' : op.toUpperCase();
    const base = this.spec.metadata.url ?? '';
    const url = base.replace(/\/$/, '') + (ref.metadata?.path ?? '');
    const hasBody = !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(method);
    const res = await fetch(url, {
      method,
      headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(hasBody ? { body: typeof data === 'string' ? data : JSON.stringify(data) } : {}),
      signal: AbortSignal.timeout(Number(this.spec.metadata.responseTimeout ?? 30_000)),
    });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
    return { status: res.status, body: text };
  }

  async close(): Promise<void> {}
}
