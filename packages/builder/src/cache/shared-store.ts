import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LayerReuse } from '../lifecycle/export.js';
import { OciLayout, type Digest, type LayerDescriptor } from '../oci/index.js';

interface Entry {
  layer: LayerDescriptor;
  /** When a build last used it (ms), for eviction. */
  usedAt: number;
}

const INDEX = 'layers.json';

/** What the store keeps of layer blobs: at most this many, and this many bytes (oldest use goes first). */
export const SHARED_LIMITS = { entries: 32, bytes: 1024 * 1024 * 1024 };

/**
 * The builder's machine-level store (`<dataDir>/builder/shared`), shared by every image built with
 * that data dir, as `pack` keeps the run images it pulled: an OCI layout holding the run image and
 * the launch layer blobs of earlier builds, found by the fingerprint of the folder they came from
 * (`treeFingerprint`). A layer that depends only on the builder (the functions framework layer)
 * is then compressed once per machine, not once per image or per cold build; blobs are hard-linked
 * into the layout a build writes to. Unlike the per-image layer cache it holds no folders, only
 * blobs, so it does not make a build skip any step of the buildpacks.
 */
export class SharedStore implements LayerReuse {
  private entries: Record<string, Entry> = {};
  private touched = false;

  private constructor(
    readonly layout: OciLayout,
    private readonly limits: typeof SHARED_LIMITS,
  ) {}

  static async open(dir: string, limits = SHARED_LIMITS): Promise<SharedStore> {
    const store = new SharedStore(await OciLayout.open(dir), limits);
    store.entries = await readEntries(dir);
    return store;
  }

  get(fingerprint: string): LayerDescriptor | undefined {
    const e = this.entries[fingerprint];
    if (!e) return undefined;
    e.usedAt = Date.now();
    this.touched = true;
    return e.layer;
  }

  set(fingerprint: string, layer: LayerDescriptor): void {
    this.entries[fingerprint] = { layer, usedAt: Date.now() };
    this.touched = true;
  }

  /** A layer blob of this store put into `layout` (false when the store no longer has it). */
  async provide(layout: OciLayout, layer: LayerDescriptor): Promise<boolean> {
    try {
      await layout.linkBlob(this.layout, layer.digest);
      return true;
    } catch {
      return false; // evicted by another build meanwhile
    }
  }

  /** Keeps a blob `layout` holds (linked) under `fingerprint`. */
  async keep(layout: OciLayout, fingerprint: string, layer: LayerDescriptor): Promise<void> {
    await this.layout.linkBlob(layout, layer.digest);
    this.set(fingerprint, layer);
  }

  /**
   * Writes the index (merged with what another build wrote meanwhile), the oldest entries and their
   * blobs dropped beyond the limits; a blob neither indexed nor part of a named image (left by a
   * build that failed or lost the race for the index) goes once an hour old.
   */
  async save(): Promise<void> {
    if (!this.touched) return;
    const onDisk = await readEntries(this.layout.dir);
    for (const [fp, e] of Object.entries(onDisk))
      if (!this.entries[fp] || this.entries[fp].usedAt < e.usedAt) this.entries[fp] = e;
    const byUse = Object.entries(this.entries).sort((a, b) => b[1].usedAt - a[1].usedAt);
    const kept: Record<string, Entry> = {};
    let bytes = 0;
    const dropped = new Set<Digest>();
    for (const [fp, e] of byUse) {
      if (Object.keys(kept).length < this.limits.entries && bytes + e.layer.size <= this.limits.bytes) {
        kept[fp] = e;
        bytes += e.layer.size;
      } else dropped.add(e.layer.digest);
    }
    const live = new Set<string>(Object.values(kept).map((e) => e.layer.digest));
    // The images the store names (the run images) keep every blob.
    for (const d of (await this.layout.readIndex()).manifests) {
      live.add(d.digest);
      const image = await this.layout.imageAt(d).catch(() => undefined);
      if (image)
        for (const b of [image.descriptor, image.manifest.config, ...image.manifest.layers])
          live.add(b.digest);
    }
    const blobs = join(this.layout.dir, 'blobs', 'sha256');
    const cutoff = Date.now() - 3_600_000;
    for (const hex of await readdir(blobs).catch(() => [])) {
      const digest = `sha256:${hex}` as Digest;
      if (live.has(digest)) continue;
      const st = await stat(join(blobs, hex)).catch(() => undefined);
      if (dropped.has(digest) || (st && st.mtimeMs < cutoff)) await rm(join(blobs, hex), { force: true });
    }
    const tmp = join(this.layout.dir, '.sprout-tmp', randomBytes(8).toString('hex'));
    await mkdir(dirname(tmp), { recursive: true });
    await writeFile(tmp, JSON.stringify(kept));
    await rename(tmp, join(this.layout.dir, INDEX));
    this.entries = kept;
    this.touched = false;
  }
}

async function readEntries(dir: string): Promise<Record<string, Entry>> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, INDEX), 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, Entry>) : {};
  } catch {
    return {}; // none yet, or unreadable: start empty
  }
}
