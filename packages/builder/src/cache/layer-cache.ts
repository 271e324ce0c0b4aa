import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { BuiltBuildpack } from '../lifecycle/build.js';
import type { LayerReuse } from '../lifecycle/export.js';
import type { LayerDescriptor } from '../oci/index.js';
import { layersDirName, writeRestoredToml } from '../lifecycle/layers.js';

/** One layer kept in the cache, with the metadata its buildpack wrote (what it compares next time). */
export interface CachedLayer {
  buildpack: string;
  name: string;
  metadata: Record<string, unknown>;
}

interface CacheIndex {
  version: 1;
  layers: CachedLayer[];
}

const CURRENT = 'current';
const INDEX = 'index.json';
/** Fingerprint → layer blob of the last build (see `LayerReuse`). */
const BLOBS = 'blobs.json';

/** Moves a folder, copying when it crosses file systems. */
function move(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    cpSync(from, to, { recursive: true, verbatimSymlinks: true });
    rmSync(from, { recursive: true, force: true });
  }
}

/**
 * The layer cache of one image: the `cache = true` layers of its last successful build, under a
 * folder of the data dir. `restore` (the analyze and restore phases) hands each cached layer back
 * to its buildpack as `<layer>/` plus a `<layer>.toml` with the old metadata and every type false,
 * as the spec says; the buildpack compares the metadata and keeps (sets the types again) or
 * rebuilds it. `save` keeps the new build's cache layers. Layers are moved, not copied, and the
 * cache is replaced by renames, so a build killed at any point leaves either the old cache, the
 * new one or none, never half of one.
 */
export class LayerCache implements LayerReuse {
  private blobs: Record<string, LayerDescriptor> | undefined;
  private fresh: Record<string, LayerDescriptor> = {};

  constructor(readonly dir: string) {}

  /** The layer blob a folder with this fingerprint gave in the last build of this image. */
  get(fingerprint: string): LayerDescriptor | undefined {
    if (!this.blobs) {
      try {
        this.blobs = JSON.parse(readFileSync(join(this.dir, BLOBS), 'utf8')) as Record<
          string,
          LayerDescriptor
        >;
      } catch {
        this.blobs = {};
      }
    }
    return this.blobs[fingerprint];
  }

  /** Remembers a layer blob of this build (written by `save`). */
  set(fingerprint: string, layer: LayerDescriptor): void {
    this.fresh[fingerprint] = layer;
  }

  /** Removes what a killed build left (folders being written, taken or replaced). */
  private sweep(): void {
    if (!existsSync(this.dir)) return;
    for (const f of readdirSync(this.dir))
      if (f !== CURRENT && f !== BLOBS) rmSync(join(this.dir, f), { recursive: true, force: true });
  }

  /** Moves the cached layers of the buildpacks `ids` into `layersRoot`; the cache is empty afterwards until `save`. */
  restore(ids: string[], layersRoot: string): CachedLayer[] {
    this.sweep();
    const current = join(this.dir, CURRENT);
    if (!existsSync(join(current, INDEX))) return [];
    const taken = join(this.dir, `taken-${randomBytes(6).toString('hex')}`);
    renameSync(current, taken);
    let index: CacheIndex;
    try {
      index = JSON.parse(readFileSync(join(taken, INDEX), 'utf8')) as CacheIndex;
    } catch {
      rmSync(taken, { recursive: true, force: true });
      return [];
    }
    const restored: CachedLayer[] = [];
    for (const layer of index.version === 1 ? index.layers : []) {
      if (!ids.includes(layer.buildpack)) continue;
      const from = join(taken, layersDirName(layer.buildpack), layer.name);
      if (!existsSync(from)) continue;
      const bpDir = join(layersRoot, layersDirName(layer.buildpack));
      mkdirSync(bpDir, { recursive: true });
      move(from, join(bpDir, layer.name));
      writeRestoredToml(bpDir, layer.name, layer.metadata);
      restored.push(layer);
    }
    rmSync(taken, { recursive: true, force: true });
    return restored;
  }

  /** Keeps the `cache = true` layers of a finished build (moved out of its layers folder). */
  save(built: BuiltBuildpack[]): CachedLayer[] {
    this.sweep();
    const next = join(this.dir, `next-${randomBytes(6).toString('hex')}`);
    mkdirSync(next, { recursive: true });
    const layers: CachedLayer[] = [];
    for (const b of built) {
      for (const l of b.layers) {
        if (!l.cache || !existsSync(l.dir)) continue;
        const to = join(next, layersDirName(b.buildpack.info.id));
        mkdirSync(to, { recursive: true });
        move(l.dir, join(to, l.name));
        layers.push({ buildpack: b.buildpack.info.id, name: l.name, metadata: l.metadata });
      }
    }
    writeFileSync(join(next, INDEX), JSON.stringify({ version: 1, layers } satisfies CacheIndex));
    const current = join(this.dir, CURRENT);
    if (existsSync(current)) renameSync(current, join(this.dir, `old-${randomBytes(6).toString('hex')}`));
    renameSync(next, current);
    const blobsTmp = join(this.dir, `blobs-${randomBytes(6).toString('hex')}`);
    writeFileSync(blobsTmp, JSON.stringify(this.fresh));
    renameSync(blobsTmp, join(this.dir, BLOBS));
    this.blobs = this.fresh;
    this.fresh = {};
    this.sweep();
    return layers;
  }
}
