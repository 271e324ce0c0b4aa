import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '@sprout/http';

/**
 * API routes a part of the console adds under the one auth layer (the cluster installer's
 * `/v1/clusters`): the console checks Host, origin, credentials and CSRF first, then calls `handle`
 * with who is asking.
 */
export interface ConsoleRoutes {
  /** The path prefix served, e.g. `/v1/clusters` (the prefix itself and everything under it). */
  prefix: string;
  /** Media types its write bodies may have (default `application/json`). */
  bodyTypes?: readonly string[];
  handle(req: IncomingMessage, res: ServerResponse, url: URL, who: Principal): Promise<void>;
  close?(): Promise<void>;
}
