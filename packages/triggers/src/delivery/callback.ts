import type { AppRequest } from './envelope.js';

/** What the app's answer to one delivery means, as daprd reads it. */
export type Outcome =
  | { readonly kind: 'success' }
  | { readonly kind: 'retry'; readonly reason: string }
  | { readonly kind: 'drop'; readonly reason: string };

/** The most of an answer read to find its status; the rest is discarded. */
const MAX_ANSWER_BYTES = 64 * 1024;

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
): Promise<Outcome> {
  const timeout = AbortSignal.timeout(timeoutMs);
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
    });
    text = await readSome(res);
  } catch (err) {
    const e = err as Error;
    const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : e.message;
    return { kind: 'retry', reason: `POST ${url}: ${why}` };
  }
  const ok = res.status >= 200 && res.status <= 299;
  if (kind === 'binding')
    return ok ? { kind: 'success' } : { kind: 'retry', reason: `POST ${url}: status ${res.status}` };
  if (res.status === 404) return { kind: 'drop', reason: `POST ${url}: 404, the app has no such route` };
  if (!ok) return { kind: 'retry', reason: `POST ${url}: status ${res.status}` };
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

async function readSome(res: Response): Promise<string> {
  if (!res.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
      size += value.byteLength;
      if (size > MAX_ANSWER_BYTES) break;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
}
