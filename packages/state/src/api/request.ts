import type { IncomingMessage, ServerResponse } from 'node:http';
import { StateError } from '../errors.js';
import type { StateStore } from '../types.js';
import { bad } from './respond.js';

/** One request to a store's route, as the router hands it to the route's handler. */
export interface StateCall {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  store: StateStore;
  /** The segment after the store name: the key (get, delete), `bulk`, `transaction`, `query`. */
  rest: string | undefined;
  /** `?metadata.<name>=<value>` query parameters, when there are any. */
  metadata: Record<string, string> | undefined;
  /** Largest request body, in bytes. */
  maxBody: number;
}

/** The `metadata.*` query parameters, without their prefix; undefined when there are none. */
export function metadataFrom(url: URL): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const [k, v] of url.searchParams) {
    if (k.startsWith('metadata.')) (out ??= {})[k.slice(9)] = v;
  }
  return out;
}

/** Reads the body, refusing it with SPROUT_ERR_STATE_BODY_TOO_LARGE past `maxBody` bytes. */
function readBody(req: IncomingMessage, maxBody: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBody) {
      reject(
        new StateError(
          'SPROUT_ERR_STATE_BODY_TOO_LARGE',
          `request body of ${declared} bytes is over the limit of ${maxBody}`,
        ),
      );
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) {
        req.removeAllListeners('data');
        req.resume();
        reject(
          new StateError(
            'SPROUT_ERR_STATE_BODY_TOO_LARGE',
            `request body is over the limit of ${maxBody} bytes`,
          ),
        );
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(bad('the client closed the connection before the body was complete'));
    });
  });
}

/** The request body parsed as JSON; an empty or malformed body is SPROUT_ERR_STATE_REQUEST_INVALID. */
export async function readJson(call: StateCall): Promise<unknown> {
  const body = await readBody(call.req, call.maxBody);
  if (body.length === 0) throw bad('the request body is empty; a JSON body is required');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    throw bad(
      `the request body is not valid JSON${m ? ` (at byte offset ${m[1]})` : ''}: ${(err as Error).message}`,
    );
  }
}
