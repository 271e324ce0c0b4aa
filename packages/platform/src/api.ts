import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { createGateway, type Gateway } from '@sprout/gateway';
import { PlatformError } from './errors.js';
import { randomBytes } from 'node:crypto';
import {
  answerClientErrors,
  refuseHostless,
  applyServerLimits,
  dropCredentials,
  isSproutError,
  RequestGuard,
  type GuardRule,
  type MountedSite,
  type ServerLimits,
} from '@sprout/http';
import { parseBody, readJson, sendError, sendJson } from './http-util.js';
import type { Platform } from './platform.js';
import type { FunctionAddresses } from './addresses.js';
import { handleEip } from './api-eip.js';
import { handleBuilds } from './api-builds.js';
import type { BuildManager } from './builds.js';
import { logLineView, type FunctionLogLine } from './logs.js';
import { routesFor } from './routes.js';

export interface ApiServer {
  server: Server;
  url: string;
  /** The token every call but `GET /v1/health` and `GET /metrics` must carry (`Authorization: Bearer`). */
  token: string;
  close(): Promise<void>;
}

const scaleBody = z
  .object({ replicas: z.number().int().min(0), reason: z.string().max(200).optional() })
  .strict();
const registerBody = z.object({ paths: z.array(z.string().min(1)).min(1) }).strict();

/**
 * The platform's REST API (documented in openapi.yaml): functions, instances, scale, invoke, a
 * server-sent event stream and, with `addresses`, EIP pools and allocations. Listens on 127.0.0.1 only.
 * Every call but `GET /v1/health` and `GET /metrics` needs the token; no call is answered to a
 * browser page of another origin or a foreign Host (the @sprout/http request guard; SECURITY.md).
 *
 * @example
 * const api = await startApi(platform, { port: 9090 });
 * await api.close();
 */
export interface ApiOptions {
  port: number;
  host?: string;
  /** Prometheus text served at `/metrics`. */
  metrics?: () => Promise<string>;
  /** Load-balancer addresses: adds `/v1/eip/...` and each function's `address`. */
  addresses?: FunctionAddresses;
  /**
   * The gateway `/v1/functions/{name}/invoke/...` goes through (its scaler, hold-while-cold and
   * balancing). Pass the gateway that serves the functions, so each function has one scaler; without
   * one the API makes a gateway of its own (never listening) and closes it on `close()`.
   */
  gateway?: Gateway;
  /**
   * The API token (`sprout dev` passes the one of its data dir's `api-token` file); by default a new
   * random one, as `api.token`.
   */
  token?: string;
  /** Host names accepted besides `localhost` and IP addresses (a proxy's name). */
  allowedHosts?: string[];
  /**
   * The API listener's own bounds, apart from the gateway's (a flood on the gateway port does not
   * use them up): `@sprout/http` defaults with 1 024 connections.
   */
  limits?: ServerLimits;
  /**
   * The console (`@sprout/console`), served on this listener: its pages and sign-in API, and its
   * sessions and API tokens accepted by every route here besides the token (one auth layer).
   */
  site?: MountedSite;
  /** Source-to-image builds (`/v1/builds`); `sprout dev` passes its own. */
  builds?: BuildManager;
}

/** What a route needs: the token always, JSON bodies on writes; YAML too on `/v1/eip/apply`; invokes pass any body. */
const OPEN: GuardRule = {};
const JSON_BODY: GuardRule = { token: true, bodyTypes: ['application/json'] };
const YAML_BODY: GuardRule = {
  token: true,
  bodyTypes: ['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml'],
};
const ANY_BODY: GuardRule = { token: true };

function ruleFor(method: string, pathname: string): GuardRule {
  const read = method === 'GET' || method === 'HEAD';
  if (read && (pathname === '/v1/health' || pathname === '/metrics')) return OPEN;
  if (/^\/v1\/functions\/[^/]+\/invoke(\/|$)/.test(pathname)) return ANY_BODY;
  if (pathname === '/v1/eip/apply') return YAML_BODY;
  return JSON_BODY;
}

export async function startApi(platform: Platform, options: ApiOptions): Promise<ApiServer> {
  const streams = new Set<ServerResponse>();
  const own = options.gateway ? undefined : invokeGateway(platform);
  const gateway = options.gateway ?? own!.gateway;
  const token = options.token ?? randomBytes(32).toString('base64url');
  const guard = new RequestGuard({
    token,
    ...(options.site ? { auth: options.site.authenticator } : {}),
    ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
  });
  if (options.host) guard.allowHost(options.host);
  const server = createServer((req, res) => {
    if (refuseHostless(req, res)) return;
    let url: URL;
    try {
      url = requestUrl(req);
    } catch (err) {
      req.resume();
      return sendError(res, err);
    }
    if (options.site?.serves(url.pathname)) return void options.site.handle(req, res, url, guard);
    const refused = guard.check(req, ruleFor(req.method ?? 'GET', url.pathname));
    if (refused) {
      req.resume();
      return sendError(res, refused, guard.headers(refused));
    }
    handle(platform, gateway, req, url, res, streams, options).catch((err: unknown) => {
      if (!isSproutError(err)) platform.logger.error({ err }, 'API request failed');
      sendError(res, err);
    });
  });
  applyServerLimits(server, { maxConnections: 1_024, ...options.limits });
  answerClientErrors(server);
  server.listen(options.port, options.host ?? '127.0.0.1');
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  } catch (err) {
    await own?.close();
    throw err;
  }
  const { port, address } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${address}:${port}`,
    token,
    close: async () => {
      await options.builds?.close();
      for (const s of streams) s.end();
      server.closeIdleConnections();
      // Held invokes get 503 and invokes in flight finish before the API's connections close.
      await own?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A gateway of the API's own for invokes when it runs without `sprout dev`'s: routes for every
 * registered function, kept in step with registrations. It never listens.
 */
function invokeGateway(platform: Platform): { gateway: Gateway; close(): Promise<void> } {
  const gateway = createGateway({ logger: platform.logger });
  // One function at a time: a route another function already claims must not hide it from invoke.
  const apply = () =>
    gateway.setRoutes(
      platform.definitions().flatMap((d) => routesFor([d], (n) => platform.upstream(n)).routes),
    );
  apply();
  const unsubscribe = platform.events.subscribe((e) => {
    if (e.type === 'function.registered' || e.type === 'function.unregistered') apply();
  });
  return {
    gateway,
    close: async () => {
      unsubscribe();
      await gateway.close();
    },
  };
}

/**
 * The request target as a URL of the API's own origin. The target is taken as a path only (`//x/y`
 * names no other host); one that is not a path (`*`, an absolute URL, bytes no URL holds) is a
 * coded 400, never a throw out of the request handler.
 */
function requestUrl(req: IncomingMessage): URL {
  const target = req.url ?? '/';
  try {
    if (target.startsWith('/')) return new URL(`http://api${target}`);
  } catch {
    // answered below
  }
  throw new PlatformError(
    'SPROUT_ERR_PLATFORM_INVALID_REQUEST',
    `the request target is not a path: ${JSON.stringify(target.slice(0, 100))}`,
    400,
  );
}

async function handle(
  platform: Platform,
  gateway: Gateway,
  req: IncomingMessage,
  url: URL,
  res: ServerResponse,
  streams: Set<ServerResponse>,
  { metrics, addresses, builds }: ApiOptions,
): Promise<void> {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeSegment);
  const method = req.method ?? 'GET';
  const notAllowed = () => {
    throw new PlatformError(
      'SPROUT_ERR_PLATFORM_INVALID_REQUEST',
      `${method} is not allowed on ${url.pathname}`,
      405,
    );
  };
  if (url.pathname === '/metrics' && metrics && method === 'GET') {
    const text = await metrics();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text);
    return;
  }
  if (parts[0] !== 'v1') {
    throw new PlatformError(
      'SPROUT_ERR_PLATFORM_NO_ROUTE',
      `no API route ${url.pathname}; see openapi.yaml`,
      404,
    );
  }
  const [, resource, name, sub] = parts;
  const view = (n: string) => {
    const v = platform.view(n);
    const address = addresses?.of(platform.mustGet(n).def);
    return address ? { ...v, address } : v;
  };
  if (resource === 'health' && parts.length === 2) {
    return sendJson(res, 200, { status: 'ok', standbyReady: platform.standbyReady() });
  }
  if (resource === 'events' && parts.length === 2) return eventStream(platform, req, url, res, streams);
  if (resource === 'eip' && addresses) {
    const applied = () => addresses.sync();
    return handleEip({ manager: addresses.manager, applied }, req, res, parts.slice(2), url.searchParams);
  }
  if (resource === 'builds' && builds) return handleBuilds(builds, req, res, parts.slice(2), streams);
  if (resource !== 'functions') {
    throw new PlatformError(
      'SPROUT_ERR_PLATFORM_NO_ROUTE',
      `no API route ${url.pathname}; see openapi.yaml`,
      404,
    );
  }
  if (name === undefined) {
    if (method === 'GET') {
      return sendJson(res, 200, {
        functions: platform.names().map(view),
        problems: platform.problems(),
      });
    }
    if (method === 'POST') {
      const body = parseBody(registerBody, await readJson(req));
      const result = await platform.register(body.paths);
      return sendJson(res, result.functions.length ? 201 : 400, {
        functions: result.functions.map((f) => view(f.name)),
        problems: result.errors.map((e) => ({ code: e.code, message: e.message })),
      });
    }
    return notAllowed();
  }
  const runner = platform.mustGet(name);
  if (sub === undefined) {
    if (method === 'GET') return sendJson(res, 200, view(name));
    if (method === 'DELETE') {
      await platform.unregister(name);
      res.writeHead(204).end();
      return;
    }
    return notAllowed();
  }
  if (sub === 'logs' && parts.length === 4) {
    if (method !== 'GET') return notAllowed();
    return functionLogs(platform, name, req, res, url.searchParams, streams);
  }
  if (sub === 'spec' && parts.length === 4) {
    if (method !== 'GET') return notAllowed();
    const file = runner.def.file;
    // The function.yaml as written (a plain folder has none); read when asked, at most 1 MiB.
    const yaml = file ? (await readFile(file, 'utf8').catch(() => undefined))?.slice(0, 1 << 20) : undefined;
    return sendJson(res, 200, {
      function: name,
      ...(file ? { file } : {}),
      ...(yaml !== undefined ? { yaml } : {}),
    });
  }
  if (sub === 'instances' && parts.length === 4) {
    if (method !== 'GET') return notAllowed();
    return sendJson(res, 200, { instances: runner.instances() });
  }
  if (sub === 'scale' && parts.length === 4) {
    if (method !== 'POST') return notAllowed();
    const body = parseBody(scaleBody, await readJson(req));
    const desired = runner.scaleTo(body.replicas, body.reason ?? 'API request');
    return sendJson(res, 202, { name, requestedReplicas: body.replicas, desiredReplicas: desired });
  }
  if (sub === 'invoke') {
    const rest = parts.slice(4).map(encodeURIComponent).join('/');
    // Through the gateway, as a request on the function's route; the header marks cold starts only.
    // The caller's Sprout credentials (token, session cookie) are not the function's to see.
    dropCredentials(req);
    gateway.dispatch(name, req, res, `/${rest}${url.search}`, { coldStartHeader: 'cold' });
    return;
  }
  throw new PlatformError(
    'SPROUT_ERR_PLATFORM_NO_ROUTE',
    `no API route ${url.pathname}; see openapi.yaml`,
    404,
  );
}

/** A path segment decoded; a malformed escape (`%`, `%zz`) is a coded 400, not a 500. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new PlatformError(
      'SPROUT_ERR_PLATFORM_INVALID_REQUEST',
      `the path segment ${JSON.stringify(segment)} is not valid percent-encoding`,
    );
  }
}

/**
 * The function's last `tail` lines (default 100) as JSON; with `follow=true` a server-sent event
 * stream: those lines, then every new one (`event: log`), like `kubectl logs -f`.
 */
function functionLogs(
  platform: Platform,
  name: string,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  streams: Set<ServerResponse>,
): void {
  const tailText = query.get('tail') ?? '100';
  const tail = Number(tailText);
  if (!/^\d+$/.test(tailText) || tail > 1000) {
    throw new PlatformError('SPROUT_ERR_PLATFORM_INVALID_REQUEST', 'tail must be an integer 0-1000');
  }
  const stream = query.get('stream');
  if (stream !== null && stream !== 'stdout' && stream !== 'stderr') {
    throw new PlatformError('SPROUT_ERR_PLATFORM_INVALID_REQUEST', 'stream must be stdout or stderr');
  }
  const wanted = (l: FunctionLogLine) => l.function === name && (stream === null || l.stream === stream);
  const held = tail === 0 ? [] : platform.logs.recent(name).filter(wanted).slice(-tail);
  if (query.get('follow') !== 'true') {
    return sendJson(res, 200, { function: name, lines: held.map(logLineView) });
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const send = (l: FunctionLogLine) => res.write(`event: log\ndata: ${JSON.stringify(logLineView(l))}\n\n`);
  for (const l of held) send(l);
  const unsubscribe = platform.logs.subscribe((l) => {
    if (wanted(l)) send(l);
  });
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  streams.add(res);
  req.once('close', () => {
    clearInterval(ping);
    unsubscribe();
    streams.delete(res);
  });
}

function eventStream(
  platform: Platform,
  req: IncomingMessage,
  url: URL,
  res: ServerResponse,
  streams: Set<ServerResponse>,
): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.write(': sprout platform events\n\n');
  const filter = url.searchParams.get('function');
  const send = (e: { id: number; type: string; function?: string }) => {
    if (filter && e.function !== filter) return;
    res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
  };
  const last = Number(req.headers['last-event-id'] ?? NaN);
  if (Number.isInteger(last)) for (const e of platform.events.since(last)) send(e);
  const unsubscribe = platform.events.subscribe(send);
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  streams.add(res);
  res.once('close', () => {
    clearInterval(ping);
    unsubscribe();
    streams.delete(res);
  });
}
