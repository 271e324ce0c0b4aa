import { createHash } from 'node:crypto';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A fingerprint of a folder as a layer would hold it: every entry's path, type, mode, size, mtime
 * and link target, plus `extra` (where it goes, owner, time). Equal fingerprints mean the layer
 * written from it would be the same, so its blob can be reused without reading the files again.
 */
export async function treeFingerprint(dir: string, extra: string): Promise<string> {
  const h = createHash('sha256').update(extra);
  const walk = async (at: string, rel: string): Promise<void> => {
    const st = await lstat(at);
    h.update(`\0${rel}\0${st.mode}\0${st.size}\0${Math.round(st.mtimeMs * 1000)}`);
    if (st.isSymbolicLink()) h.update(`\0>${await readlink(at)}`);
    else if (st.isDirectory())
      for (const name of (await readdir(at)).sort()) await walk(join(at, name), `${rel}/${name}`);
  };
  await walk(dir, '');
  return h.digest('hex');
}
