import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { BuilderError } from '../errors.js';
import { isLoopbackRegistry } from './reference.js';

export interface TransportOptions {
  /** PEM of the CA(s) that sign the registry's certificate (added to the system ones). */
  ca?: string | Buffer;
  /** Plain HTTP; allowed only for localhost/127.0.0.0/8/::1 (else `SPROUT_ERR_BUILDER_REGISTRY_INSECURE`). */
  plainHttp?: boolean;
  /** Retries of a request that met a 5xx or a broken connection (default 4), with doubling backoff. */
  retries?: number;
  /** First backoff in ms (default 200). */
  backoffMs?: number;
  /** Idle socket timeout in ms (default 60 s). */
  timeoutMs?: number;
}

export interface Request {
  method: string;
  /** A path (`/v2/...`) or an absolute URL on the registry (a Location header). */
  url: string;
  headers?: Record<string, string | number>;
  /** The body, made anew for each attempt (so a retry resends it). */
  body?: () => Buffer | Readable;
}

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  url: URL;
}

const RETRYABLE = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** Reads a response body whole, refusing more than `limit` bytes. */
export async function readAll(res: IncomingMessage, limit = 4 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      res.destroy();
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_REGISTRY_FAILED',
        `the registry sent more than ${limit} bytes where a small document was expected`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * HTTP(S) to one registry: keep-alive agent, custom CA, plain HTTP only to loopback, and retries
 * with backoff on 5xx answers and reset or refused connections.
 */
export class Transport {
  readonly base: URL;
  readonly #agent: http.Agent;
  readonly #retries: number;
  readonly #backoffMs: number;
  readonly #timeoutMs: number;

  constructor(
    readonly registry: string,
    options: TransportOptions = {},
  ) {
    if (options.plainHttp && !isLoopbackRegistry(registry))
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_REGISTRY_INSECURE',
        `plain HTTP to ${registry} refused: only localhost/127.0.0.1 may be reached without TLS; serve the registry over HTTPS (pass its CA for a private one)`,
        { field: 'plainHttp' },
      );
    this.base = new URL(`${options.plainHttp ? 'http' : 'https'}://${registry}`);
    this.#agent = options.plainHttp
      ? new http.Agent({ keepAlive: true, maxSockets: 8 })
      : new https.Agent({
          keepAlive: true,
          maxSockets: 8,
          ...(options.ca ? { ca: [...rootCertificates, options.ca.toString()] } : {}),
        });
    this.#retries = options.retries ?? 4;
    this.#backoffMs = options.backoffMs ?? 200;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** Sends `req`, retrying on 5xx and broken connections; the last 5xx answer is returned as is. */
  async send(req: Request): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= this.#retries;
      try {
        const res = await this.once(req);
        if (res.status < 500 || last) return res;
        res.body.resume();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (last || !(RETRYABLE.has(code) || (err as Error).message === 'socket hang up'))
          throw new BuilderError(
            'SPROUT_ERR_BUILDER_REGISTRY_UNREACHABLE',
            `${req.method} ${this.base.origin}: ${(err as Error).message}${attempt > 0 ? ` (after ${attempt + 1} attempts)` : ''}; check that the registry runs at that address and, for TLS, that its CA is given`,
            { cause: err },
          );
      }
      await sleep(this.#backoffMs * 2 ** attempt);
    }
  }

  private once(req: Request): Promise<Response> {
    const url = new URL(req.url, this.base);
    if (url.protocol !== 'https:' && !isLoopbackRegistry(url.host))
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_REGISTRY_INSECURE',
        `the registry pointed to ${url.origin}: plain HTTP is allowed only to localhost/127.0.0.1; refused`,
      );
    const body = req.body?.();
    const lib = url.protocol === 'http:' ? http : https;
    return new Promise<Response>((resolve, reject) => {
      const r = lib.request(url, {
        method: req.method,
        headers: req.headers,
        agent: url.origin === this.base.origin ? this.#agent : undefined,
        timeout: this.#timeoutMs,
      });
      r.once('response', (res) =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url }),
      );
      r.once('timeout', () =>
        r.destroy(Object.assign(new Error(`no answer within ${this.#timeoutMs} ms`), { code: 'ETIMEDOUT' })),
      );
      r.once('error', reject);
      if (body === undefined) r.end();
      else if (Buffer.isBuffer(body)) r.end(body);
      else {
        body.once('error', (err) => r.destroy(err));
        body.pipe(r);
      }
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
