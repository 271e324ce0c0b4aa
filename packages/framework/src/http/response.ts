import { ServerResponse, STATUS_CODES } from 'node:http';
import type { SproutRequest } from './request.js';

const MIME: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  text: 'text/plain; charset=utf-8',
  json: 'application/json; charset=utf-8',
  xml: 'application/xml',
  bin: 'application/octet-stream',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/**
 * The response a function sees: Node's ServerResponse plus the Express methods functions written
 * for the anchors call (`status`, `send`, `json`, `set`, `type`, `sendStatus`, `redirect`, …).
 */
export class SproutResponse extends ServerResponse<SproutRequest> {
  #locals: Record<string, unknown> | undefined;

  /** Per-request scratch space (Express compatibility). Made on first use. */
  get locals(): Record<string, unknown> {
    return (this.#locals ??= {});
  }
  set locals(value: Record<string, unknown>) {
    this.#locals = value;
  }

  status(code: number): this {
    this.statusCode = code;
    return this;
  }

  set(field: string | Record<string, string | number | string[]>, value?: string | number | string[]): this {
    if (typeof field === 'object') {
      for (const [k, v] of Object.entries(field)) this.setHeader(k, v);
    } else if (value !== undefined) {
      this.setHeader(
        field,
        field.toLowerCase() === 'content-type' && typeof value === 'string' && !value.includes('/')
          ? (MIME[value] ?? value)
          : value,
      );
    }
    return this;
  }

  header(
    field: string | Record<string, string | number | string[]>,
    value?: string | number | string[],
  ): this {
    return this.set(field, value);
  }

  get(field: string): string | number | string[] | undefined {
    return this.getHeader(field);
  }

  append(field: string, value: string | string[]): this {
    const prev = this.getHeader(field);
    const next = prev === undefined ? value : ([] as string[]).concat(prev as string | string[], value);
    this.setHeader(field, next);
    return this;
  }

  type(t: string): this {
    this.setHeader(
      'content-type',
      t.includes('/') ? t : (MIME[t.replace(/^\./, '')] ?? 'application/octet-stream'),
    );
    return this;
  }

  location(url: string): this {
    this.setHeader('location', url);
    return this;
  }

  redirect(statusOrUrl: number | string, url?: string): void {
    const status = typeof statusOrUrl === 'number' ? statusOrUrl : 302;
    const to = typeof statusOrUrl === 'string' ? statusOrUrl : (url ?? '/');
    this.statusCode = status;
    this.setHeader('location', to);
    this.send(`${STATUS_CODES[status] ?? 'Redirect'}. Redirecting to ${to}`);
  }

  json(body: unknown): this {
    if (!this.hasHeader('content-type')) this.setHeader('content-type', MIME.json!);
    return this.send(JSON.stringify(body) ?? '');
  }

  sendStatus(code: number): this {
    this.statusCode = code;
    return this.type('text').send(STATUS_CODES[code] ?? String(code));
  }

  /** Sends a body: string → text/html, Buffer → octet-stream, anything else → JSON; ends the response. */
  send(body?: unknown): this {
    let chunk: string | Buffer;
    if (body === undefined || body === null) chunk = '';
    else if (typeof body === 'string') {
      chunk = body;
      if (!this.hasHeader('content-type')) this.setHeader('content-type', MIME.html!);
    } else if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
      chunk = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      if (!this.hasHeader('content-type')) this.setHeader('content-type', MIME.bin!);
    } else return this.json(body);
    const status = this.statusCode;
    if (status === 204 || status === 304) {
      this.removeHeader('content-type');
      this.removeHeader('content-length');
      this.end();
      return this;
    }
    // Node's end() sets Content-Length from the chunk itself; a HEAD answer has no chunk to count.
    if (this.req?.method === 'HEAD') {
      this.setHeader('content-length', typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length);
      this.end();
    } else this.end(chunk);
    return this;
  }
}
