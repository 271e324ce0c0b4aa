import { request, type Agent } from 'node:http';
import type { AppRequest } from './envelope.js';

/** What the app's answer to one delivery means, as daprd reads it. */
export type Outcome =
  | { readonly kind: 'success' }
  | { readonly kind: 'retry'; readonly reason: string; readonly status?: number }
  | { readonly kind: 'drop'; readonly reason: string };

/** The most of an answer read to find its status; the rest is discarded. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** What `postToApp` sends: the bytes and the headers (a GET, with `method`, sends no body). */
export interface AppPost {
  readonly method?: 'GET' | 'POST';
  readonly body: Uint8Array;
  readonly headers: Record<string, string>;
}

/**
 * POSTs one delivery to the app at `url` and reads the answer as daprd does.
 * Pub/sub: a 2xx is success unless its JSON body says `{"status": "RETRY"}` (retry) or `"DROP"`
 * (dropped; acked, not dead-lettered); an empty or non-JSON 2xx body, or status `SUCCESS` or `""`,
 * is success; any other status is a retry. 404 is dropped (the app has no such route). Every other
 * answer, a connection error or no answer within `timeoutMs` is a retry.
 * Input binding: any 2xx is success, anything else a retry.
 */
export async function deliverToApp(
  url: string,
  req: AppRequest,
  timeoutMs: number,
  kind: 'pubsub' | 'binding',
  /** Aborts the attempt (the delivery is stopping); it then counts as a retry. */
  signal?: AbortSignal,
  /** Keeps connections to the app open between deliveries (one per TriggerDelivery). */
  agent?: Agent,
): Promise<Outcome> {
  let res: { status: number; text: string };
  try {
    res = await postToApp(url, req, timeoutMs, signal, agent);
  } catch (err) {
    return { kind: 'retry', reason: `POST ${url}: ${(err as Error).message}` };
  }
  const text = res.text;
  const ok = res.status >= 200 && res.status <= 299;
  if (kind === 'binding')
    return ok
      ? { kind: 'success' }
      : { kind: 'retry', reason: `POST ${url}: status ${res.status}`, status: res.status };
  if (res.status === 404) return { kind: 'drop', reason: `POST ${url}: 404, the app has no such route` };
  if (!ok) return { kind: 'retry', reason: `POST ${url}: status ${res.status}`, status: res.status };
  let status: unknown;
  try {
    status = (JSON.parse(text) as { status?: unknown } | null)?.status;
  } catch {
    return { kind: 'success' };
  }
  if (status === undefined || status === null || status === '') return { kind: 'success' };
  const s = typeof status === 'string' ? status.toUpperCase() : status;
  if (s === 'SUCCESS') return { kind: 'success' };
  if (s === 'DROP') return { kind: 'drop', reason: 'the app answered status DROP' };
  if (s === 'RETRY') return { kind: 'retry', reason: 'the app answered status RETRY' };
  return { kind: 'retry', reason: `the app answered an unknown status ${JSON.stringify(status)}` };
}

/**
 * One POST over node:http (the hot path: undici's fetch costs several times the CPU per request).
 * Reads at most `maxAnswerBytes` of the answer; no answer within `timeoutMs` rejects.
 */
export function postToApp(
  url: string,
  req: AppPost,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  agent: Agent | undefined,
  maxAnswerBytes = MAX_ANSWER_BYTES,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('the delivery is stopping'));
    let target: URL;
    try {
      target = new URL(url);
      if (target.protocol !== 'http:') throw new Error(`${target.protocol} is not http:`);
    } catch (err) {
      return reject(err as Error);
    }
    const body = Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength);
    let done = false;
    const finish = (err: Error | undefined, value?: { status: number; text: string }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) {
        r.destroy();
        reject(err);
      } else resolve(value!);
    };
    const onAbort = () => finish(new Error('the delivery is stopping'));
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const r = request(
      {
        host: target.hostname.replace(/^\[|\]$/g, ''),
        port: target.port || 80,
        path: `${target.pathname}${target.search}`,
        method: req.method ?? 'POST',
        headers:
          req.method === 'GET' ? req.headers : { ...req.headers, 'content-length': String(body.byteLength) },
        ...(agent ? { agent } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size >= maxAnswerBytes) return; // read on (the connection stays usable), keep nothing
          chunks.push(c);
          size += c.byteLength;
        });
        res.on('end', () =>
          finish(undefined, {
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).subarray(0, maxAnswerBytes).toString('utf8'),
          }),
        );
        res.on('error', (err) => finish(err));
      },
    );
    r.on('error', (err) => finish(err));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (req.method === 'GET') r.end();
    else r.end(body);
  });
}
