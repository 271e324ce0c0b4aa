import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { readBody, sendError as sendCodedError } from '@sprout/http';
import { PlatformError } from './errors.js';

export { sendJson } from '@sprout/http';

/**
 * Answers a coded error of any Sprout package (`{ error: { code, message, field? } }` with its own
 * status); anything else is a 500 `SPROUT_ERR_PLATFORM_INTERNAL` that hides its details.
 */
export function sendError(res: ServerResponse, err: unknown, headers?: Record<string, string>): void {
  sendCodedError(res, err, { code: 'SPROUT_ERR_PLATFORM_INTERNAL' }, headers);
}

/** Reads a text body (YAML, JSON) up to `limit` bytes; oversized bodies are `SPROUT_ERR_PLATFORM_INVALID_REQUEST` (413). */
export async function readText(req: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  const buf = await readBody(req, {
    limit,
    tooLarge: (n) => new PlatformError('SPROUT_ERR_PLATFORM_INVALID_REQUEST', `body over ${n} bytes`, 413),
    broken: (reason) => new PlatformError('SPROUT_ERR_PLATFORM_INVALID_REQUEST', reason),
  });
  return buf.toString('utf8');
}

/** Reads a JSON body up to `limit` bytes; malformed or oversized bodies are `SPROUT_ERR_PLATFORM_INVALID_REQUEST`. */
export async function readJson(req: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  const text = await readText(req, limit);
  if (!text.trim()) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new PlatformError(
      'SPROUT_ERR_PLATFORM_INVALID_REQUEST',
      `body is not JSON: ${(err as Error).message}`,
    );
  }
}

/** The body checked against `schema`; the first issue is a coded 400 naming its field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field =
    issue.path.map(String).join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(',') : 'body');
  throw new PlatformError('SPROUT_ERR_PLATFORM_INVALID_REQUEST', `field "${field}": ${issue.message}`);
}
