import type { ComponentRef } from '../context.js';
import type { Output } from './output.js';

/**
 * Delivers through a Dapr sidecar's HTTP API (on Kubernetes, or wherever `DAPR_HTTP_PORT` points):
 * bindings via `POST /v1.0/bindings/{name}`, pub/sub via `POST /v1.0/publish/{pubsub}/{topic}`.
 */
export class DaprOutput implements Output {
  constructor(
    readonly name: string,
    private readonly baseUrl: string,
    /** Sent as `dapr-api-token` (Dapr's DAPR_API_TOKEN), when the sidecar asks for one. */
    private readonly apiToken?: string,
  ) {}

  async send(data: unknown, ref: ComponentRef, headers: Record<string, string>): Promise<unknown> {
    const kind = ref.componentType.split('.')[0];
    const url =
      kind === 'pubsub'
        ? `${this.baseUrl}/v1.0/publish/${encodeURIComponent(ref.componentName)}/${encodeURIComponent(ref.uri ?? '')}`
        : `${this.baseUrl}/v1.0/bindings/${encodeURIComponent(ref.componentName)}`;
    const body =
      kind === 'pubsub'
        ? data
        : { data, operation: ref.operation ?? 'create', ...(ref.metadata ? { metadata: ref.metadata } : {}) };
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...headers,
        ...(this.apiToken ? { 'dapr-api-token': this.apiToken } : {}),
      },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Dapr sidecar answered ${res.status}: ${text.slice(0, 300)}`);
    if (!text) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  async close(): Promise<void> {}
}
