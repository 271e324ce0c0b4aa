import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { insideDir } from '@sprout/http';
import { ConsoleError } from './errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/**
 * Headers of every console page: no framing by other sites, scripts and connections from this
 * origin only (Mantine sets inline styles, hence `style-src 'unsafe-inline'`).
 */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/**
 * Serves the built web app from `dir` (dist/web): `/assets/*` (content-hashed names) cached for a
 * year, anything else revalidated; a path that names no file and has no extension is a page of the
 * app, answered with `index.html` (SPA fallback). The path is decoded and must stay inside `dir`
 * (`insideDir`); anything else is a coded 404. GET and HEAD only.
 */
export async function serveAsset(dir: string, req: IncomingMessage, res: ServerResponse, pathname: string) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    throw new ConsoleError('SPROUT_ERR_CONSOLE_NOT_FOUND', `${req.method} is not allowed on ${pathname}`);
  }
  let rel: string;
  try {
    rel = decodeURIComponent(pathname).replace(/^\/+/, '');
  } catch {
    throw notFound(pathname);
  }
  let file: string | undefined;
  if (rel !== '' && !rel.endsWith('/')) {
    let full: string;
    try {
      full = insideDir(dir, rel);
    } catch {
      throw notFound(pathname);
    }
    file = await stat(full).then(
      (s) => (s.isFile() ? full : undefined),
      () => undefined,
    );
  }
  if (!file) {
    if (extname(rel) !== '' || rel.startsWith('assets/')) throw notFound(pathname);
    file = insideDir(dir, 'index.html');
  }
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    throw new ConsoleError(
      'SPROUT_ERR_CONSOLE_ASSETS_MISSING',
      `the console's web app is not built (${dir} has no index.html); run npm run build`,
    );
  }
  const immutable = rel.startsWith('assets/') && file.endsWith(rel);
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': body.length,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    ...PAGE_HEADERS,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

const notFound = (pathname: string) =>
  new ConsoleError(
    'SPROUT_ERR_CONSOLE_NOT_FOUND',
    `no console file ${JSON.stringify(pathname.slice(0, 200))}`,
  );
