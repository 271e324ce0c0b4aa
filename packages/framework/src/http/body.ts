import { hasBody as hasDeclaredBody, readBodyThen } from '@sprout/http';
import { HttpError } from '../errors.js';
import type { SproutRequest } from './request.js';

/** Default body limit: 10 MiB, as the anchors' JSON parser. */
export const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024;

/** True when the request declares a body (content-length > 0 or a transfer-encoding). */
export function hasBody(req: SproutRequest): boolean {
  return hasDeclaredBody(req);
}

const tooLarge = (limit: number) =>
  new HttpError(
    413,
    'SPROUT_ERR_FRAMEWORK_BODY_TOO_LARGE',
    `request body is larger than the ${limit}-byte limit`,
  );
const broken = (reason: string) => new HttpError(400, 'SPROUT_ERR_FRAMEWORK_MALFORMED_BODY', reason);

/** Reads one request's body and calls back once, with the error or with the bytes. */
export type BodyReader = (req: SproutRequest, done: (err: Error | undefined, body?: Buffer) => void) => void;

/**
 * A body reader for one limit (the toolkit's bounded reader with the framework's codes): a declared
 * content-length over the limit is refused before reading, a streamed body as soon as it passes it.
 * Built once per server, so a request allocates no options; a callback, not a promise, because
 * the server's AsyncLocalStorage makes every promise on the request path pay an async hook.
 */
export function bodyReader(limit: number): BodyReader {
  const options = { limit, tooLarge, broken };
  return (req, done) => readBodyThen(req, options, done);
}

const JSON_RE = /^application\/(?:[\w.+-]+\+)?json$/;

/** The encoding a content type's parameters (`charset=…; …`) ask for: latin1 or utf8. */
function encodingOf(params: string): BufferEncoding {
  const charset = params
    .split(';')
    .find((p) => p.trim().toLowerCase().startsWith('charset='))
    ?.split('=')[1]
    ?.trim()
    .toLowerCase();
  return charset === 'latin1' || charset === 'iso-8859-1' ? 'latin1' : 'utf8';
}

/**
 * Parses a body as the anchors do: JSON (incl. `+json` types) → value, `text/*` → string,
 * urlencoded form → object, anything else → the Buffer itself.
 */
export function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  const type = contentType ?? '';
  const semi = type.indexOf(';');
  const mime = (semi < 0 ? type : type.slice(0, semi)).trim().toLowerCase();
  // Parameters are split only when there are any: the common `application/json` allocates nothing.
  const encoding: BufferEncoding = semi < 0 ? 'utf8' : encodingOf(type.slice(semi + 1));
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
