import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CSRF_COOKIE,
  readBody,
  sendError,
  sendJson,
  serializeCookie,
  SESSION_COOKIE,
  parseCookies,
  type Principal,
  type RequestGuard,
} from '@sprout/http';
import { ConsoleError } from '../errors.js';
import type { Accounts } from './accounts.js';
import type { LoginLimiter } from './limiter.js';
import type { Sessions } from './sessions.js';

export interface AuthContext {
  accounts: Accounts;
  sessions: Sessions;
  limiter: LoginLimiter;
  /** Consumes a one-time sign-in token (the link printed at start); true when it was one. */
  useLoginToken(token: string): boolean;
  /** Cookies get `Secure` (the console is reached over HTTPS). */
  secure: boolean;
}

const JSON_BODY = { bodyTypes: ['application/json'] } as const;

/** Reads a JSON object body of at most 16 KiB. */
async function readObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const invalid = (why: string) => new ConsoleError('SPROUT_ERR_CONSOLE_INVALID_REQUEST', why);
  const buf = await readBody(req, {
    limit: 16 * 1024,
    tooLarge: (n) => invalid(`the body is over ${n} bytes`),
    broken: (reason) => invalid(reason),
  });
  let value: unknown;
  try {
    value = buf.length ? JSON.parse(buf.toString('utf8')) : {};
  } catch {
    throw invalid('the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('the body must be a JSON object');
  return value as Record<string, unknown>;
}

function text(body: Record<string, unknown>, field: string, max = 1024): string | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > max) {
    throw new ConsoleError(
      'SPROUT_ERR_CONSOLE_INVALID_REQUEST',
      `"${field}" must be a string of at most ${max} characters`,
      {
        field,
      },
    );
  }
  return v;
}

/**
 * The sign-in API under `/v1/auth/` (openapi.yaml of the platform lists it):
 * `POST login` (`{ user, password }` or `{ loginToken }`) → session and CSRF cookies;
 * `POST logout`; `GET session` (who am I); `GET|POST tokens`, `DELETE tokens/{id}` (API tokens for
 * scripts, the admin only: a session or the platform token, never an API token).
 */
export async function handleAuth(
  ctx: AuthContext,
  guard: RequestGuard,
  req: IncomingMessage,
  res: ServerResponse,
  parts: string[],
): Promise<void> {
  const method = req.method ?? 'GET';
  const [route, id] = parts;
  if (route === 'login' && parts.length === 1 && method === 'POST') {
    const refused = guard.check(req, JSON_BODY);
    if (refused) throw refused;
    return login(ctx, req, res);
  }
  const refused = guard.check(req, { token: true, ...JSON_BODY });
  if (refused) throw refused;
  const who = guard.authenticate(req) as Principal;
  if (route === 'session' && parts.length === 1 && method === 'GET') return sendJson(res, 200, who);
  if (route === 'logout' && parts.length === 1 && method === 'POST') {
    const sid = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (sid) ctx.sessions.end(sid);
    res.setHeader('set-cookie', clearCookies(ctx.secure));
    res.writeHead(204).end();
    return;
  }
  if (route === 'tokens') {
    if (who.via === 'api-token') {
      throw new ConsoleError(
        'SPROUT_ERR_CONSOLE_FORBIDDEN',
        'an API token cannot manage API tokens; sign in as the admin or use the platform token',
      );
    }
    if (parts.length === 1 && method === 'GET')
      return sendJson(res, 200, { tokens: ctx.accounts.listTokens() });
    if (parts.length === 1 && method === 'POST') {
      const name = text(await readObject(req), 'name', 100)?.trim();
      if (!name)
        throw new ConsoleError('SPROUT_ERR_CONSOLE_INVALID_REQUEST', 'give the token a "name"', {
          field: 'name',
        });
      return sendJson(res, 201, ctx.accounts.createToken(name));
    }
    if (parts.length === 2 && method === 'DELETE') {
      if (!ctx.accounts.revokeToken(id!)) {
        throw new ConsoleError('SPROUT_ERR_CONSOLE_NOT_FOUND', `no API token ${JSON.stringify(id)}`);
      }
      res.writeHead(204).end();
      return;
    }
  }
  throw new ConsoleError('SPROUT_ERR_CONSOLE_NOT_FOUND', `no route ${method} /v1/auth/${parts.join('/')}`);
}

async function login(ctx: AuthContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const client = req.socket.remoteAddress ?? 'unknown';
  const wait = ctx.limiter.retryAfter(client);
  if (wait > 0) {
    req.resume();
    const err = new ConsoleError(
      'SPROUT_ERR_CONSOLE_LOGIN_RATE_LIMITED',
      `too many failed sign-ins; try again in ${wait} s`,
    );
    return sendError(res, err, { code: 'SPROUT_ERR_CONSOLE_INTERNAL' }, { 'retry-after': String(wait) });
  }
  const body = await readObject(req);
  const loginToken = text(body, 'loginToken', 200);
  const user = text(body, 'user', 100) ?? 'admin';
  const password = text(body, 'password');
  const ok =
    loginToken !== undefined
      ? ctx.useLoginToken(loginToken)
      : password !== undefined && (await ctx.accounts.verify(user, password));
  if (!ok) {
    ctx.limiter.failed(client);
    throw new ConsoleError(
      'SPROUT_ERR_CONSOLE_LOGIN_FAILED',
      loginToken !== undefined
        ? 'that sign-in link was used already or has expired; sign in with the password'
        : 'wrong user or password (the admin password was printed at the first start, or set SPROUT_ADMIN_PASSWORD)',
    );
  }
  ctx.limiter.succeeded(client);
  const { id, session } = ctx.sessions.create('admin');
  const maxAge = ctx.sessions.maxAgeMs / 1000;
  res.setHeader('set-cookie', [
    serializeCookie(SESSION_COOKIE, id, { httpOnly: true, secure: ctx.secure, maxAge }),
    serializeCookie(CSRF_COOKIE, session.csrf, { secure: ctx.secure, maxAge }),
  ]);
  sendJson(res, 200, { user: session.user, via: 'session', csrf: session.csrf });
}

const clearCookies = (secure: boolean) => [
  serializeCookie(SESSION_COOKIE, '', { httpOnly: true, secure, maxAge: 0 }),
  serializeCookie(CSRF_COOKIE, '', { secure, maxAge: 0 }),
];
