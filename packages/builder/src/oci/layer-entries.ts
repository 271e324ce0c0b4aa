import { lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { BuilderError } from '../errors.js';
import type { TarHeader } from './tar-header.js';

/**
 * What goes into a layer: a file, directory (recursively) or symlink of this machine placed at `to`;
 * a file made from `content`; or an empty directory. `to` is a path inside the image (`/layers/x`).
 * `uid`/`gid` override the layer's owner for this source (e.g. a home directory of the run user);
 * `followSymlink` stores a symlink given as `from` as the file it points to (a library from `ldd`).
 */
export type LayerSource =
  | { from: string; to: string; uid?: number; gid?: number; followSymlink?: boolean }
  | { to: string; content: string | Uint8Array; mode?: number; uid?: number; gid?: number }
  | { to: string; directory: true; mode?: number; uid?: number; gid?: number };

/** One entry of the tar, with where its bytes come from. */
export interface LayerEntry extends TarHeader {
  hostPath?: string;
  content?: Uint8Array;
}

interface Owner {
  uid: number;
  gid: number;
  mtime: number;
}

/** The image path `to` as a tar name: relative, normalised, never above the root. */
function imagePath(to: string): string {
  const normal = posix.normalize(`/${to}`);
  if (to.includes('\0') || normal.split('/').includes('..'))
    throw new BuilderError(
      'SPROUT_ERR_BUILDER_LAYER_SOURCE',
      `layer path ${JSON.stringify(to)} leaves the image root`,
      { field: 'to' },
    );
  return normal.replace(/^\/+/, '').replace(/\/+$/, '');
}

function sourceError(path: string, why: string): BuilderError {
  return new BuilderError('SPROUT_ERR_BUILDER_LAYER_SOURCE', `${path} ${why}`, { field: 'from' });
}

function addHost(out: LayerEntry[], hostPath: string, name: string, owner: Owner, follow = false): void {
  let st;
  try {
    st = follow ? statSync(hostPath) : lstatSync(hostPath);
  } catch (err) {
    throw sourceError(
      hostPath,
      `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  const base = { name, mode: st.mode & 0o7777, uid: owner.uid, gid: owner.gid, mtime: owner.mtime };
  if (st.isSymbolicLink()) {
    out.push({ ...base, type: 'symlink', size: 0, linkname: readlinkSync(hostPath) });
  } else if (st.isFile()) {
    out.push({ ...base, type: 'file', size: st.size, hostPath });
  } else if (st.isDirectory()) {
    if (name !== '') out.push({ ...base, type: 'directory', size: 0 });
    const names = readdirSync(hostPath);
    for (const child of names)
      addHost(out, join(hostPath, child), name === '' ? child : `${name}/${child}`, owner);
  } else {
    throw sourceError(
      hostPath,
      'is a device, socket or FIFO; a layer holds only files, directories and symlinks',
    );
  }
}

/**
 * The entries of a layer from its sources, sorted by path (bytewise), with every missing parent
 * directory added (mode 0755, the layer's owner). A path given twice is refused.
 */
export async function collectEntries(sources: LayerSource[], defaults: Owner): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  for (const source of sources) {
    const name = imagePath(source.to);
    const owner = { uid: source.uid ?? defaults.uid, gid: source.gid ?? defaults.gid, mtime: defaults.mtime };
    const base = { name, uid: owner.uid, gid: owner.gid, mtime: owner.mtime };
    if ('from' in source) addHost(entries, source.from, name, owner, source.followSymlink);
    else if ('content' in source) {
      const content = typeof source.content === 'string' ? Buffer.from(source.content) : source.content;
      entries.push({ ...base, type: 'file', mode: source.mode ?? 0o644, size: content.length, content });
    } else if (name !== '') entries.push({ ...base, type: 'directory', mode: source.mode ?? 0o755, size: 0 });
  }
  const byName = new Map<string, LayerEntry>();
  for (const e of entries) {
    if (byName.has(e.name)) throw sourceError(`/${e.name}`, 'is given twice in one layer');
    byName.set(e.name, e);
  }
  for (const e of entries) {
    for (let dir = posix.dirname(e.name); dir !== '.' && !byName.has(dir); dir = posix.dirname(dir))
      byName.set(dir, {
        name: dir,
        type: 'directory',
        mode: 0o755,
        size: 0,
        uid: defaults.uid,
        gid: defaults.gid,
        mtime: defaults.mtime,
      });
  }
  return [...byName.values()].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
}
