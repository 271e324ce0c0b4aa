import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '@sprout/http';
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

/** A body over the limit: a declared length is named in the message, a streamed one is not. */
function tooLarge(req: IncomingMessage, limit: number): StateError {
  const declared = Number(req.headers['content-length'] ?? 0);
  return new StateError(
    'SPROUT_ERR_STATE_BODY_TOO_LARGE',
    declared > limit
      ? `request body of ${declared} bytes is over the limit of ${limit}`
      : `request body is over the limit of ${limit} bytes`,
  );
}

const broken = () => bad('the client closed the connection before the body was complete');

/** The request body parsed as JSON; an empty or malformed body is SPROUT_ERR_STATE_REQUEST_INVALID. */
export async function readJson(call: StateCall): Promise<unknown> {
  const { req } = call;
  const body = await readBody(req, { limit: call.maxBody, tooLarge: (n) => tooLarge(req, n), broken });
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
