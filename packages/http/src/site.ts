import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator, RequestGuard } from './guard.js';

/**
 * A site a server serves on its listener besides its own routes, under the server's one guard: the
 * console on the platform API's listener (`sprout dev`). The server builds its `RequestGuard` with
 * `auth: site.authenticator`, so the site's sessions and API tokens open the server's routes too,
 * and hands the site every request whose path `serves` claims; the site checks each with the guard.
 */
export interface MountedSite {
  authenticator: Authenticator;
  serves(pathname: string): boolean;
  /** Answers the request (errors as coded answers); never rejects. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL, guard: RequestGuard): Promise<void>;
}
