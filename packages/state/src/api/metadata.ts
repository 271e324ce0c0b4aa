import type { ServerResponse } from 'node:http';
import { METRICS_CONTENT_TYPE, type Registry } from '@sprout/observe/metrics';
import { send, sendEmpty } from './respond.js';

/** What GET /v1.0/metadata reports. */
export interface MetadataSource {
  appId: string | undefined;
  /** Component types by name; a store not listed reports `state`. */
  componentTypes: Record<string, string> | undefined;
  /** The names of the stores served. */
  names: string[];
}

/** GET /v1.0/healthz: 204, and never asks for the API token. */
export function sendHealth(res: ServerResponse): void {
  sendEmpty(res, 204);
}

/** GET /v1.0/metadata: the app id and the stores as Dapr components (the Dapr SDK polls this to start). */
export function sendMetadata(res: ServerResponse, source: MetadataSource): void {
  send(res, 200, {
    id: source.appId ?? '',
    runtimeVersion: 'sprout-0.1.0',
    components: source.names.map((name) => ({
      name,
      type: source.componentTypes?.[name] ?? 'state',
      version: 'v1',
      capabilities: ['ETAG', 'TRANSACTIONAL', 'TTL', 'QUERY_API'],
    })),
  });
}

/** GET /metrics: the registry in Prometheus text. */
export async function sendMetrics(res: ServerResponse, metrics: Registry): Promise<void> {
  const text = await metrics.metrics();
  res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text);
}
