import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Files up to this size are fingerprinted by their bytes, larger ones by size and mtime. */
const BY_CONTENT = 8 * 1024;

/**
 * A fingerprint of a folder as a layer would hold it: every entry's path, type and mode, a link's
 * target, a small file's bytes (env files and scripts a buildpack writes anew each build), a large
 * file's size and mtime; plus `extra` (where it goes, owner, time). A folder's own mtime does not
 * count (the layer normalises it, and its entries are listed). Equal fingerprints mean the layer
 * written from it would be the same, so its blob can be reused without reading the large files.
 * Synchronous on purpose: thousands of lstat calls one by one through the thread pool cost more.
 */
export function treeFingerprint(dir: string, extra: string): string {
  const h = createHash('sha256').update(extra);
  const walk = (at: string, rel: string): void => {
    const st = lstatSync(at);
    h.update(`\0${rel}\0${st.mode}`);
    if (st.isSymbolicLink()) h.update(`\0>${readlinkSync(at)}`);
    else if (st.isDirectory())
      for (const name of readdirSync(at).sort()) walk(join(at, name), `${rel}/${name}`);
    else if (st.isFile() && st.size <= BY_CONTENT) h.update(`\0=${st.size}\0`).update(readFileSync(at));
    else h.update(`\0${st.size}\0${Math.round(st.mtimeMs * 1000)}`);
  };
  walk(dir, '');
  return h.digest('hex');
}
