import { IncomingMessage } from 'node:http';
import { randomFillSync } from 'node:crypto';

const EXECUTION_ID_HEADER = 'function-execution-id';
const CLOUD_TRACE_HEADER = 'x-cloud-trace-context';
/** `TRACE_ID/SPAN_ID[;o=OPTIONS]`, the span id decimal, as Google's frameworks read the header. */
const CLOUD_TRACE = /^\w+\/(\d+)(?:;o=.+)?$/;

/**
 * Random bytes for generated execution ids, filled 4 KiB at a time and encoded once per fill: one
 * `randomBytes(9)` per request was a synchronous entropy call and a 5% share of an openfunction
 * request's CPU, and a `toString('base64url')` per id still 1%.
 */
const ID_BYTES = 9;
const ID_CHARS = 12; // 9 bytes in base64url, no padding
const IDS_PER_FILL = 455;
const pool = Buffer.alloc(ID_BYTES * IDS_PER_FILL);
let ids = '';
let idsAt = IDS_PER_FILL;

/** A fresh random execution id: 9 random bytes as 12 base64url characters. */
function newExecutionId(): string {
  if (idsAt === IDS_PER_FILL) {
    randomFillSync(pool);
    // Every id's 9 bytes start on a 3-byte boundary, so each is 12 characters of the whole encoding.
    ids = pool.toString('base64url');
    idsAt = 0;
  }
  const at = idsAt++ * ID_CHARS;
  return ids.slice(at, at + ID_CHARS);
}

/**
 * The request a function sees: Node's IncomingMessage plus the Express surface functions written
 * for the anchors use (`body`, `rawBody`, `query`, `path`, `get()`, `is()`, …). Methods live on the
 * prototype and lazy fields are computed on first use, so an unused feature costs nothing.
 */
export class SproutRequest extends IncomingMessage {
  /** The parsed body: JSON → value, text → string, form → object, anything else → Buffer; `{}` when empty. */
  body: unknown = undefined;
  /** The body bytes as received, when there was a body. */
  rawBody: Buffer | undefined = undefined;
  /** The URL before a mount prefix was stripped (several functions in one process). */
  originalUrl = '';
  /** The mount prefix of the function this request was routed to ('' at the root). */
  baseUrl = '';
  #query: Record<string, string | string[]> | undefined;
  #params: Record<string, string> | undefined;
  #executionId: string | undefined;
  #abort: AbortController | undefined;

  /** Route parameters (Express compatibility; always empty). Made on first use. */
  get params(): Record<string, string> {
    return (this.#params ??= {});
  }
  set params(value: Record<string, string>) {
    this.#params = value;
  }

  /** Query string parameters; repeated keys become arrays. */
  get query(): Record<string, string | string[]> {
    if (this.#query) return this.#query;
    const url = this.url ?? '';
    const i = url.indexOf('?');
    const out: Record<string, string | string[]> = {};
    if (i >= 0) {
      for (const [k, v] of new URLSearchParams(url.slice(i + 1))) {
        const prev = out[k];
        out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
    }
    return (this.#query = out);
  }

  /** The path of the URL, without the query string. */
  get path(): string {
    const url = this.url ?? '/';
    const i = url.indexOf('?');
    return i >= 0 ? url.slice(0, i) : url;
  }

  get hostname(): string {
    const host = this.headers['x-forwarded-host'] ?? this.headers.host ?? '';
    const h = Array.isArray(host) ? (host[0] ?? '') : host;
    return h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : (h.split(':')[0] ?? '');
  }

  get ip(): string | undefined {
    return this.socket?.remoteAddress;
  }

  get protocol(): 'http' | 'https' {
    const proto = this.headers['x-forwarded-proto'];
    return (typeof proto === 'string' ? proto.split(',')[0]?.trim() : undefined) === 'https'
      ? 'https'
      : 'http';
  }

  get secure(): boolean {
    return this.protocol === 'https';
  }

  /** The execution id: the `function-execution-id` header, or one generated for this request. */
  get executionId(): string {
    if (this.#executionId) return this.#executionId;
    const h = this.headers[EXECUTION_ID_HEADER];
    return (this.#executionId = typeof h === 'string' && h ? h : newExecutionId());
  }

  /**
   * The span id of the `X-Cloud-Trace-Context` header (`TRACE_ID/SPAN_ID;o=1`), as Google's
   * framework exposes it; undefined when the header is absent or not in that form.
   */
  get spanId(): string | undefined {
    const h = this.headers[CLOUD_TRACE_HEADER];
    return typeof h === 'string' ? CLOUD_TRACE.exec(h)?.[1] : undefined;
  }

  /** Aborted when the request times out or the client goes away. */
  get signal(): AbortSignal {
    return (this.#abort ??= new AbortController()).signal;
  }

  /** Aborts `signal` (used by the server on timeout and disconnect). */
  abort(reason: unknown): void {
    if (this.#abort && !this.#abort.signal.aborted) this.#abort.abort(reason);
    else if (!this.#abort) {
      this.#abort = new AbortController();
      this.#abort.abort(reason);
    }
  }

  /** A request header, case-insensitive; `referer`/`referrer` are interchangeable as in Express. */
  get(name: string): string | string[] | undefined {
    const n = name.toLowerCase();
    if (n === 'referer' || n === 'referrer')
      return this.headers.referer ?? (this.headers.referrer as string | undefined);
    return this.headers[n];
  }

  header(name: string): string | string[] | undefined {
    return this.get(name);
  }

  /** The first of `types` the request's content type matches (`json`, `text/*`, `application/json`), or false. */
  is(...types: (string | string[])[]): string | false {
    const ct = (this.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!ct) return false;
    for (const t of types.flat()) {
      const want = t.includes('/')
        ? t.toLowerCase()
        : t === 'json'
          ? 'application/json'
          : t === 'urlencoded'
            ? 'application/x-www-form-urlencoded'
            : `*/${t}`;
      const [wt, ws] = want.split('/');
      const [ct0, cs] = ct.split('/');
      if ((wt === '*' || wt === ct0) && (ws === '*' || ws === cs || (ws === 'json' && cs?.endsWith('+json'))))
        return t;
    }
    return false;
  }
}
