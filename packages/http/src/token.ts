import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpError } from './errors.js';

/** The file, inside a server's data dir, that holds its API token. */
export const TOKEN_FILE = 'api-token';

const TOKEN = /^[A-Za-z0-9_-]{32,256}$/;

export interface LoadedToken {
  token: string;
  /** The token file's path. */
  file: string;
  /** True when this call generated the token (the first start on this data dir). */
  created: boolean;
}

/**
 * The API token kept in `<dir>/api-token`: read when it exists, else 32 random bytes (base64url)
 * written there first, readable by this user only (0600; the dir is made 0700 when missing). Two
 * processes starting at once agree on one token: the file appears whole (written aside, then linked).
 * A file others may read, that is not a regular file, or that holds no token is refused with
 * `SPROUT_ERR_HTTP_TOKEN_FILE`, never used.
 *
 * @example
 * const { token, file } = loadOrCreateToken('.sprout');
 */
export function loadOrCreateToken(dir: string): LoadedToken {
  const file = join(dir, TOKEN_FILE);
  const existing = readToken(dir);
  if (existing !== undefined) return { token: existing, file, created: false };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  const aside = join(dir, `.${TOKEN_FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
  writeFileSync(aside, `${token}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(aside, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw tokenFileError(file, err);
    // Another process made it first: use theirs.
    return { token: readToken(dir)!, file, created: false };
  } finally {
    unlinkSync(aside);
  }
  return { token, file, created: true };
}

/**
 * The token in `<dir>/api-token`, or undefined when there is none (clients: the `sprout` CLI). The
 * same checks as `loadOrCreateToken`: a file others may read is refused, not used.
 */
export function readToken(dir: string): string | undefined {
  const file = join(dir, TOKEN_FILE);
  let stat;
  try {
    stat = lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw tokenFileError(file, err);
  }
  if (!stat.isFile()) {
    throw new HttpError('SPROUT_ERR_HTTP_TOKEN_FILE', `${file} is not a regular file; remove it`, {
      field: file,
    });
  }
  if (stat.mode & 0o077) {
    throw new HttpError(
      'SPROUT_ERR_HTTP_TOKEN_FILE',
      `${file} may be read by other users (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 ${file}, or remove it for a new token`,
      { field: file },
    );
  }
  const token = readFileSync(file, 'utf8').trim();
  if (!TOKEN.test(token)) {
    throw new HttpError(
      'SPROUT_ERR_HTTP_TOKEN_FILE',
      `${file} holds no token (32-256 characters of A-Z a-z 0-9 _ -); remove it for a new one`,
      { field: file },
    );
  }
  return token;
}

function tokenFileError(file: string, cause: unknown): HttpError {
  return new HttpError('SPROUT_ERR_HTTP_TOKEN_FILE', `cannot use ${file}: ${(cause as Error).message}`, {
    field: file,
    cause,
  });
}

/**
 * True when `given` is `expected`, compared in constant time: both are hashed first, so neither
 * their bytes nor their lengths show in the time taken.
 */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
