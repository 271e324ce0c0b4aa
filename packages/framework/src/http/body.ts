import { HttpError } from '../errors.js';
import type { SproutRequest } from './request.js';

/** Default body limit: 10 MiB, as the anchors' JSON parser. */
export const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024;

/** True when the request declares a body (content-length > 0 or a transfer-encoding). */
export function hasBody(req: SproutRequest): boolean {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) return true;
  const cl = req.headers['content-length'];
  return cl !== undefined && cl !== '0';
}

function tooLarge(limit: number): HttpError {
  return new HttpError(
    413,
    'SPROUT_ERR_FRAMEWORK_BODY_TOO_LARGE',
    `request body is larger than the ${limit}-byte limit`,
  );
}

/**
 * Reads the body, refusing it at the first byte that decides: a declared content-length over the
 * limit is refused before reading; a streamed body is refused as soon as it passes the limit.
 */
export function readBody(req: SproutRequest, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done = true;
        req.off('data', onData);
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.once('error', (err) => {
      if (done) return;
      done = true;
      reject(
        new HttpError(
          400,
          'SPROUT_ERR_FRAMEWORK_MALFORMED_BODY',
          `request body could not be read: ${err.message}`,
        ),
      );
    });
    req.once('aborted', () => {
      if (done) return;
      done = true;
      reject(
        new HttpError(400, 'SPROUT_ERR_FRAMEWORK_MALFORMED_BODY', 'client aborted while sending the body'),
      );
    });
  });
}

const JSON_RE = /^application\/(?:[\w.+-]+\+)?json$/;

/**
 * Parses a body as the anchors do: JSON (incl. `+json` types) → value, `text/*` → string,
 * urlencoded form → object, anything else → the Buffer itself.
 */
export function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  const [type = '', ...params] = (contentType ?? '').split(';');
  const mime = type.trim().toLowerCase();
  const charset = params
    .find((p) => p.trim().toLowerCase().startsWith('charset='))
    ?.split('=')[1]
    ?.trim()
    .toLowerCase();
  const encoding: BufferEncoding = charset === 'latin1' || charset === 'iso-8859-1' ? 'latin1' : 'utf8';
  if (JSON_RE.test(mime)) {
    if (raw.length === 0) return {};
    try {
      return JSON.parse(raw.toString(encoding));
    } catch (err) {
      throw new HttpError(
        400,
        'SPROUT_ERR_FRAMEWORK_MALFORMED_BODY',
        `request body is not valid JSON: ${(err as Error).message}`,
      );
    }
  }
  if (mime.startsWith('text/')) return raw.toString(encoding);
  if (mime === 'application/x-www-form-urlencoded') {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(raw.toString(encoding))) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    return out;
  }
  return raw;
}
