import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, sendJson } from '@sprout/http';
import type { GatewayErrorCode } from './errors.js';

/** Hop-by-hop header names (RFC 9110 §7.6.1 and the usual extras), lower-cased. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'http2-settings',
  'transfer-encoding',
]);

/** Extra hop-by-hop names a Connection header lists (beyond the standard tokens). */
function connectionListed(raw: string[]): Set<string> | undefined {
  let extra: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 10 || raw[i]!.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const t = token.trim().toLowerCase();
      if (t && t !== 'close' && t !== 'keep-alive' && t !== 'upgrade') (extra ??= new Set()).add(t);
    }
  }
  return extra;
}

/**
 * Request headers for the instance, as a raw [name, value, …] list: hop-by-hop headers dropped
 * (kept for Connection/Upgrade on an upgrade; Transfer-Encoding kept so a chunked body stays
 * framed), X-Forwarded-For/-Host/-Proto added, an empty Host added when the client sent none.
 */
export function forwardHeaders(req: IncomingMessage, upgrade: boolean): string[] {
  const raw = req.rawHeaders;
  const extra = connectionListed(raw);
  const out: string[] = [];
  let host: string | undefined;
  let hasProto = false;
  let hasFwdHost = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'transfer-encoding' || (upgrade && (lower === 'connection' || lower === 'upgrade'))) {
        out.push(name, raw[i + 1]!);
      }
      continue;
    }
    if (extra?.has(lower)) continue;
    if (lower === 'host') host = raw[i + 1];
    else if (lower === 'x-forwarded-proto') hasProto = true;
    else if (lower === 'x-forwarded-host') hasFwdHost = true;
    out.push(name, raw[i + 1]!);
  }
  const addr = req.socket.remoteAddress;
  if (addr) out.push('x-forwarded-for', addr);
  if (!hasProto) out.push('x-forwarded-proto', 'http');
  if (host === undefined) {
    // An HTTP/1.0 request may come without Host; it goes on as HTTP/1.1, which must carry one (empty
    // when the target names no authority, RFC 9112 §3.2), or the instance refuses it with a 400.
    out.push('host', '');
  } else if (!hasFwdHost) out.push('x-forwarded-host', host);
  return out;
}

/** Response headers for the client: hop-by-hop headers dropped. */
export function responseHeaders(raw: string[], extra?: readonly [string, string]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  if (extra) out.push(extra[0], extra[1]);
  return out;
}

/** Response headers given as an object (undici): hop-by-hop headers dropped, arrays spread. */
export function headerList(headers: IncomingHttpHeaders, extra?: readonly [string, string]): string[] {
  const out: string[] = [];
  for (const name in headers) {
    if (HOP_BY_HOP.has(name)) continue;
    const v = headers[name];
    if (Array.isArray(v)) for (const x of v) out.push(name, x);
    else if (v !== undefined) out.push(name, v);
  }
  if (extra) out.push(extra[0], extra[1]);
  return out;
}

/**
 * Answers a request with a coded JSON error, `{ error: { code, message, ...extra } }` plus an
 * `x-sprout-error-code` header (the toolkit's shape); a response that already started is cut.
 */
export function sendGatewayError(
  res: ServerResponse,
  status: number,
  code: GatewayErrorCode,
  message: string,
  headers: Record<string, string> = {},
  extra?: Record<string, unknown>,
): void {
  sendJson(res, status, errorBody(code, message, extra), { 'x-sprout-error-code': code, ...headers });
}

/** The path to forward when the matched prefix is stripped (`/hello/x?y` → `/x?y`). */
export function stripPrefix(url: string, prefix: string): string {
  if (prefix === '/') return url;
  const rest = url.slice(prefix.length);
  return rest.startsWith('/') ? rest : '/' + rest;
}
