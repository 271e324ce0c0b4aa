import { parseSize } from '@sprout/http';
import type { BindingResponse, ComponentConfig, MessageMetadata, OutputBindingEngine } from '../broker.js';
import { Metadata } from './metadata.js';
import { OutputBinding } from './output.js';

/**
 * Dapr's `bindings.http` output: operation = HTTP method (`create` is `post`), request metadata
 * `path` appended to `url`, every other request metadata key sent as a header. The response body is
 * the data; `statusCode`, `status` and the response headers are the metadata. A non-2xx answer is an
 * error unless `errorIfNot2XX: false`.
 */
export class HttpBinding extends OutputBinding implements OutputBindingEngine {
  readonly type = 'bindings.http';
  readonly operations = [
    'create',
    'get',
    'head',
    'post',
    'put',
    'patch',
    'delete',
    'options',
    'trace',
  ] as const;
  private readonly url: URL;
  private readonly timeoutMs: number;
  private readonly maxBody: number;
  private readonly errorIfNot2XX: boolean;
  private readonly token: { header: string; value: string } | undefined;
  private readonly aborts = new Set<AbortController>();

  constructor(config: ComponentConfig) {
    super(config);
    const md = new Metadata(
      config,
      [
        'url',
        'responseTimeout',
        'maxResponseBodySize',
        'securityToken',
        'securityTokenHeader',
        'errorIfNot2XX',
        'direction',
      ],
      { MTLSRootCA: [], MTLSClientCert: [], MTLSClientKey: [], MTLSRenegotiation: [] },
    );
    md.oneOf('direction', ['output'], 'output');
    const url = md.required('url');
    try {
      this.url = new URL(url);
    } catch {
      throw md.invalid('url', `must be an absolute http(s) URL (got "${url}")`);
    }
    if (!/^https?:$/.test(this.url.protocol)) throw md.invalid('url', 'must be http:// or https://');
    this.timeoutMs = md.duration('responseTimeout', 0);
    const size = md.string('maxResponseBodySize', '100Mi');
    const max = /^\s*-?\d+\s*$/.test(size) ? Number(size) : parseSize(size.replace(/([KMG])i$/i, '$1'));
    if (max === undefined)
      throw md.invalid('maxResponseBodySize', `must be a size such as 100Mi (got "${size}")`);
    this.maxBody = max <= 0 ? Infinity : max;
    this.errorIfNot2XX = md.bool('errorIfNot2XX', true);
    const value = md.string('securityToken');
    this.token = value ? { header: md.required('securityTokenHeader'), value } : undefined;
  }

  protected async run(
    operation: string,
    data: Uint8Array,
    metadata: MessageMetadata,
  ): Promise<BindingResponse> {
    const method = operation === 'create' ? 'POST' : operation.toUpperCase();
    const { path, ...rest } = metadata;
    const headers: Record<string, string> = { ...rest };
    const target = new URL(this.url);
    if (path) target.pathname = `${target.pathname.replace(/\/$/, '')}/${path.replace(/^\//, '')}`;
    if (this.token) headers[this.token.header] = this.token.value;
    const abort = new AbortController();
    this.aborts.add(abort);
    const timer =
      this.timeoutMs > 0
        ? setTimeout(() => abort.abort(new Error('response timeout')), this.timeoutMs)
        : undefined;
    try {
      const res = await fetch(target, {
        method,
        headers,
        signal: abort.signal,
        ...(method === 'GET' || method === 'HEAD' || data.byteLength === 0 ? {} : { body: data }),
      });
      const body = await this.readLimited(res, operation);
      const out: Record<string, string> = {
        statusCode: String(res.status),
        status: `${res.status} ${res.statusText}`,
      };
      res.headers.forEach((v, k) => (out[k] = v));
      if (this.errorIfNot2XX && (res.status < 200 || res.status > 299))
        throw this.failed(
          operation,
          `${target.origin}${target.pathname} answered ${res.status}: ${new TextDecoder().decode(body.slice(0, 200))}`,
        );
      return { data: body, metadata: out };
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
  }

  /** Reads the body, refusing one over maxResponseBodySize at the first byte past it. */
  private async readLimited(res: Response, operation: string): Promise<Uint8Array> {
    if (!res.body) return new Uint8Array(0);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      total += chunk.byteLength;
      if (total > this.maxBody) {
        await res.body.cancel().catch(() => {});
        throw this.failed(operation, `response body over maxResponseBodySize (${this.maxBody} bytes)`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }

  async close(): Promise<void> {
    for (const a of this.aborts) a.abort(new Error('binding closed'));
  }
}
