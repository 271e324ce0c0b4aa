import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { BuildLogLine, BuildManager } from './builds.js';
import { PlatformError } from './errors.js';
import { parseBody, readJson, sendJson } from './http-util.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const buildBody = z
  .object({
    function: z.string().min(1).max(253).optional(),
    source: z.string().min(1).max(4096).optional(),
    tag: z.string().min(1).max(512).optional(),
    output: z.enum(['store', 'oci-layout', 'docker-archive']).optional(),
    env: z
      .record(z.string().regex(ENV_NAME, 'not an environment variable name').max(256), z.string().max(32_768))
      .optional(),
    push: z.boolean().optional(),
  })
  .strict()
  .refine((b) => (b.function === undefined) !== (b.source === undefined), {
    message: 'give either function (a served function name) or source (its folder)',
    path: ['function'],
  });

/** `/v1/builds`, `/v1/builds/{id}` and `/v1/builds/{id}/logs` (server-sent events). */
export async function handleBuilds(
  builds: BuildManager,
  req: IncomingMessage,
  res: ServerResponse,
  parts: string[],
  streams: Set<ServerResponse>,
): Promise<void> {
  const method = req.method ?? 'GET';
  const [id, sub] = parts;
  const notAllowed = () => {
    throw new PlatformError('SPROUT_ERR_PLATFORM_INVALID_REQUEST', `${method} is not allowed here`, 405);
  };
  if (id === undefined) {
    if (method === 'GET') return sendJson(res, 200, { builds: builds.list() });
    if (method === 'POST') return sendJson(res, 202, builds.start(parseBody(buildBody, await readJson(req))));
    return notAllowed();
  }
  if (sub === undefined && parts.length === 1) {
    if (method === 'GET') return sendJson(res, 200, builds.get(id));
    if (method === 'DELETE') return sendJson(res, 200, await builds.cancel(id));
    return notAllowed();
  }
  if (sub === 'logs' && parts.length === 2) {
    if (method !== 'GET') return notAllowed();
    return followLogs(builds, id, req, res, streams);
  }
  throw new PlatformError(
    'SPROUT_ERR_PLATFORM_NO_ROUTE',
    `no API route /v1/builds/${parts.join('/')}; see openapi.yaml`,
    404,
  );
}

/**
 * The build's log as server-sent events: `phase` at each lifecycle phase header, `log` for every
 * line (held lines first), `end` with the build when it is over; then the stream closes.
 */
function followLogs(
  builds: BuildManager,
  id: string,
  req: IncomingMessage,
  res: ServerResponse,
  streams: Set<ServerResponse>,
): void {
  builds.get(id); // a 404 before the stream starts
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const send = (line: BuildLogLine | undefined) => {
    if (!line) {
      res.end(`event: end\ndata: ${JSON.stringify(builds.get(id))}\n\n`);
      return;
    }
    if (line.text.startsWith('===> ') && line.phase)
      res.write(`event: phase\ndata: ${JSON.stringify({ name: line.phase, n: line.n })}\n\n`);
    res.write(`id: ${line.n}\nevent: log\ndata: ${JSON.stringify(line)}\n\n`);
  };
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  streams.add(res);
  const unsubscribe = builds.follow(id, send);
  res.once('close', () => {
    clearInterval(ping);
    unsubscribe();
    streams.delete(res);
  });
}
