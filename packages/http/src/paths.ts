import { isAbsolute, relative, resolve } from 'node:path';
import { HttpError } from './errors.js';

/** The longest file name most file systems take (ext4, XFS, btrfs, APFS: 255 bytes). */
const MAX_SEGMENT_BYTES = 255;

function unsafe(what: string, value: string, why: string): HttpError {
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return new HttpError('SPROUT_ERR_HTTP_UNSAFE_PATH', `${what} ${shown} ${why}`, { field: what });
}

/**
 * A name from input (a function, component or store name, a tag, an API path parameter) checked to
 * be one file name that stays in the folder it is joined to: not empty, `.` or `..`; no `/`, `\`,
 * NUL or other control character; no `%` (a later decoding could turn `%2F` into a separator); at
 * most 255 bytes in UTF-8. Returns the name unchanged, else throws `SPROUT_ERR_HTTP_UNSAFE_PATH`.
 *
 * @example
 * const file = join(dataDir, 'state', safeSegment(`${name}.db`, 'state store name'));
 */
export function safeSegment(name: string, what = 'name'): string {
  if (typeof name !== 'string' || name === '') throw unsafe(what, String(name), 'is empty');
  if (name === '.' || name === '..') throw unsafe(what, name, 'names a folder, not a file in it');
  if (/[/\\]/.test(name)) throw unsafe(what, name, 'has a path separator (/ or \\)');
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) throw unsafe(what, name, 'has a NUL or control character');
  if (name.includes('%')) throw unsafe(what, name, 'has a % (percent-encoding is not decoded here)');
  if (Buffer.byteLength(name) > MAX_SEGMENT_BYTES)
    throw unsafe(what, name, `is over ${MAX_SEGMENT_BYTES} bytes`);
  return name;
}

/**
 * `path` (relative, from input) resolved against `root`, refused with `SPROUT_ERR_HTTP_UNSAFE_PATH`
 * when it is absolute, holds a NUL, has a part over 255 bytes, or resolves outside `root` (`..`).
 *
 * @example
 * const file = insideDir(dataDir, connectionString, 'connectionString');
 */
export function insideDir(root: string, path: string, what = 'path'): string {
  if (typeof path !== 'string' || path === '') throw unsafe(what, String(path), 'is empty');
  if (path.includes('\0')) throw unsafe(what, path, 'has a NUL character');
  if (isAbsolute(path)) throw unsafe(what, path, `is absolute; give a path inside ${root}`);
  if (path.split(/[/\\]/).some((p) => Buffer.byteLength(p) > MAX_SEGMENT_BYTES))
    throw unsafe(what, path, `has a part over ${MAX_SEGMENT_BYTES} bytes`);
  const base = resolve(root);
  const full = resolve(base, path);
  const rel = relative(base, full);
  if (rel === '') throw unsafe(what, path, `names ${root} itself, not a file in it`);
  if (rel === '..' || rel.startsWith('../') || isAbsolute(rel)) throw unsafe(what, path, `leaves ${root}`);
  return full;
}
