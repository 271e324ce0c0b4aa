import { STATE_ERROR_CODES, StateError, type StateErrorCode } from '../errors.js';
import { checkKey } from '../key.js';
import { parseQuery } from '../query.js';
import type {
  BulkGetItem,
  BulkResult,
  DeleteRequest,
  GetOptions,
  QueryResponse,
  SaveRequest,
  StateEntry,
  StateQuery,
  StateStore,
  TransactionOperation,
} from '../types.js';

export interface DaprSidecarOptions {
  /** The sidecar's HTTP port (DAPR_HTTP_PORT); default 3500. */
  port?: number;
  host?: string;
  /** Sent as `dapr-api-token` (DAPR_API_TOKEN). */
  apiToken?: string;
  /** Per-request timeout in ms; default 10000. */
  timeoutMs?: number;
}

function metadataQuery(
  metadata: Record<string, string> | undefined,
  extra: Record<string, string | undefined> = {},
): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(metadata ?? {})) q.set(`metadata.${k}`, v);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * A StateStore that talks to a Dapr sidecar's state HTTP API (on Kubernetes, where the sidecar
 * owns the real component). Key prefixes and etags are the sidecar's; errors come back as StateError.
 *
 * @example
 * const store = new DaprSidecarStore('statestore', { port: Number(process.env.DAPR_HTTP_PORT) });
 */
export class DaprSidecarStore implements StateStore {
  readonly #base: string;
  readonly #alpha: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(
    readonly name: string,
    options: DaprSidecarOptions = {},
  ) {
    const origin = `http://${options.host ?? '127.0.0.1'}:${options.port ?? 3500}`;
    this.#base = `${origin}/v1.0/state/${encodeURIComponent(name)}`;
    this.#alpha = `${origin}/v1.0-alpha1/state/${encodeURIComponent(name)}`;
    this.#headers = {
      'content-type': 'application/json',
      ...(options.apiToken ? { 'dapr-api-token': options.apiToken } : {}),
    };
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async get<T = unknown>(key: string, options?: GetOptions): Promise<StateEntry<T> | undefined> {
    checkKey(key);
    const res = await this.#fetch(
      `${this.#base}/${encodeURIComponent(key)}${metadataQuery(options?.metadata, { consistency: options?.consistency })}`,
      { method: 'GET' },
    );
    if (res.status === 204) return undefined;
    const text = await res.text();
    if (text === '') return undefined;
    const entry: StateEntry<T> = { value: JSON.parse(text) as T, etag: res.headers.get('etag') ?? '' };
    const expires = res.headers.get('metadata.ttlexpiretime');
    if (expires) entry.metadata = { ttlExpireTime: expires };
    return entry;
  }

  async save(items: SaveRequest | SaveRequest[]): Promise<void> {
    const list = Array.isArray(items) ? items : [items];
    if (!list.length) return;
    if (list.length === 1) {
      await this.#fetch(this.#base, { method: 'POST', body: JSON.stringify(list) });
      return;
    }
    // The sidecar's save of many is not atomic; a transaction is.
    await this.transaction(list.map((request) => ({ operation: 'upsert', request })));
  }

  async delete(key: string, options?: Omit<DeleteRequest, 'key'>): Promise<void> {
    checkKey(key);
    const o = options?.options;
    await this.#fetch(
      `${this.#base}/${encodeURIComponent(key)}${metadataQuery(options?.metadata, { concurrency: o?.concurrency, consistency: o?.consistency })}`,
      { method: 'DELETE', headers: options?.etag ? { 'if-match': options.etag } : {} },
    );
  }

  async bulkGet<T = unknown>(keys: string[], options?: GetOptions): Promise<BulkGetItem<T>[]> {
    // Invalid keys are answered here: the API's bulk items carry only an error message, not a code.
    const out: BulkGetItem<T>[] = keys.map((key) => {
      try {
        checkKey(key);
        return { key };
      } catch (err) {
        return { key: String(key), error: err as StateError };
      }
    });
    const valid = out.filter((i) => !i.error).map((i) => i.key);
    if (!valid.length) return out;
    const res = await this.#fetch(`${this.#base}/bulk${metadataQuery(options?.metadata)}`, {
      method: 'POST',
      body: JSON.stringify({ keys: valid, parallelism: 16 }),
    });
    const rows = (await res.json()) as {
      key: string;
      data?: T;
      etag?: string;
      error?: string;
      metadata?: { ttlExpireTime?: string };
    }[];
    const byKey = new Map(rows.map((r) => [r.key, r]));
    for (const item of out) {
      const r = byKey.get(item.key);
      if (item.error || !r) continue;
      if (r.error) item.error = new StateError('SPROUT_ERR_STATE_ENGINE_FAILED', r.error, { field: r.key });
      else if (r.data !== undefined) {
        item.value = r.data;
        if (r.etag !== undefined) item.etag = r.etag;
        if (r.metadata?.ttlExpireTime) item.metadata = { ttlExpireTime: r.metadata.ttlExpireTime };
      }
    }
    return out;
  }

  async bulkSave(items: SaveRequest[]): Promise<BulkResult[]> {
    return Promise.all(items.map(async (item) => this.#settle(item.key, () => this.save(item))));
  }

  async bulkDelete(items: DeleteRequest[]): Promise<BulkResult[]> {
    return Promise.all(items.map(async (item) => this.#settle(item.key, () => this.delete(item.key, item))));
  }

  async transaction(operations: TransactionOperation[], metadata?: Record<string, string>): Promise<void> {
    await this.#fetch(`${this.#base}/transaction`, {
      method: 'POST',
      body: JSON.stringify({ operations, ...(metadata ? { metadata } : {}) }),
    });
  }

  async query<T = unknown>(query: StateQuery, metadata?: Record<string, string>): Promise<QueryResponse<T>> {
    const res = await this.#fetch(`${this.#alpha}/query${metadataQuery(metadata)}`, {
      method: 'POST',
      body: JSON.stringify(parseQuery(query)),
    });
    const body = (await res.json()) as {
      results?: { key: string; data: T; etag?: string }[];
      token?: string;
    };
    const out: QueryResponse<T> = {
      results: (body.results ?? []).map((r) => ({ key: r.key, value: r.data, etag: r.etag ?? '' })),
    };
    if (body.token) out.token = body.token;
    return out;
  }

  async close(): Promise<void> {
    // Nothing held open: fetch pools its own connections.
  }

  async #settle(key: string, fn: () => Promise<void>): Promise<BulkResult> {
    try {
      await fn();
      return { key };
    } catch (err) {
      return { key, error: err as StateError };
    }
  }

  async #fetch(
    url: string,
    init: { method: string; body?: string; headers?: Record<string, string> },
  ): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(url, {
        method: init.method,
        headers: { ...this.#headers, ...init.headers },
        signal: AbortSignal.timeout(this.#timeoutMs),
        ...(init.body !== undefined ? { body: init.body } : {}),
      });
    } catch (err) {
      throw new StateError(
        'SPROUT_ERR_STATE_ENGINE_UNAVAILABLE',
        `Dapr sidecar at ${url} is unavailable: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    if (res.status < 400) return res;
    const text = await res.text();
    let body: {
      errorCode?: string;
      message?: string;
      details?: { reason?: string; metadata?: { key?: string } }[];
    } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      /* not JSON */
    }
    const reason = body.details?.find((d) => d.reason && d.reason in STATE_ERROR_CODES)?.reason as
      StateErrorCode | undefined;
    const code: StateErrorCode =
      reason ??
      (res.status === 409
        ? 'SPROUT_ERR_STATE_ETAG_MISMATCH'
        : body.errorCode === 'ERR_STATE_STORE_NOT_FOUND'
          ? 'SPROUT_ERR_STATE_STORE_NOT_FOUND'
          : res.status === 400
            ? 'SPROUT_ERR_STATE_REQUEST_INVALID'
            : 'SPROUT_ERR_STATE_ENGINE_FAILED');
    const key = body.details?.find((d) => d.metadata?.key)?.metadata?.key;
    throw new StateError(
      code,
      body.message ?? `Dapr sidecar answered ${res.status}: ${text.slice(0, 200)}`,
      key ? { field: key } : undefined,
    );
  }
}
