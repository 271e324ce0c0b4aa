import { resolve, sep } from 'node:path';

/** Longest file or folder name the common filesystems take (NAME_MAX), in bytes. */
const NAME_MAX = 255;
/** Longest path handed to the kernel (PATH_MAX, less the terminating NUL). */
const PATH_MAX = 4095;

const SAFE = /[A-Za-z0-9._-]/;

/**
 * The relative path a tag is written to, made as fluent-bit's file output makes it: split at `/` and
 * `\`, empty parts dropped (a leading separator cannot make it absolute), a `.` or `..` part becomes
 * `_`, and every byte of its UTF-8 other than `A-Z a-z 0-9 . _ -` becomes `_` (NUL, `%`, `:`, spaces,
 * each byte of a non-ASCII character); nothing left is `_`. A tag such as `app/web` is a sub-folder,
 * as in fluent-bit. Returns undefined when a part is longer than 255 bytes or the whole longer than
 * 4095 (fluent-bit fails those at open): such a tag cannot be a file name.
 *
 * @example
 * tagPath('../../etc/passwd') // '_/_/etc/passwd'
 */
export function tagPath(tag: string): string | undefined {
  const parts: string[] = [];
  for (const part of tag.split(/[/\\]+/)) {
    if (!part) continue;
    if (part === '.' || part === '..') {
      parts.push('_');
      continue;
    }
    let out = '';
    for (const byte of Buffer.from(part, 'utf8')) {
      const c = String.fromCharCode(byte);
      out += byte < 0x80 && SAFE.test(c) ? c : '_';
    }
    if (out.length > NAME_MAX) return undefined;
    parts.push(out);
  }
  const path = parts.length ? parts.join(sep) : '_';
  return path.length > PATH_MAX ? undefined : path;
}

/**
 * `name` resolved under `folder`, or undefined when the result would not be inside it (the check
 * every input-derived name passes before it is opened, whatever made it).
 */
export function inside(folder: string, name: string): string | undefined {
  const root = resolve(folder);
  const target = resolve(root, name);
  const prefix = root.endsWith(sep) ? root : root + sep;
  return target.startsWith(prefix) && target.length > prefix.length ? target : undefined;
}
