import { createReadStream, type ReadStream } from 'node:fs';
import { copyFile, link, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BuilderError } from '../errors.js';
import { BlobWriter, removeStaleTemporaries } from './blob-writer.js';
import { digestHex, isDigest, sha256 } from './digest.js';
import { parseConfig, parseIndex, parseManifest } from './parse.js';
import { MEDIA_TYPES, type Descriptor, type Digest, type ImageIndex, type OciImage } from './types.js';

/** The annotation naming an image in a layout's `index.json` (its tag). */
export const REF_NAME = 'org.opencontainers.image.ref.name';

/** The largest JSON document (manifest, index, config) read into memory. */
const MAX_JSON_BYTES = 4 * 1024 * 1024;

/**
 * An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/<hex>`): the store every
 * image the builder makes or pulls lives in. Blobs are content-addressed and written whole or not
 * at all (`BlobWriter`); `index.json` is replaced atomically.
 *
 * @example
 * const layout = await OciLayout.open(dir);
 * const image = await layout.image('latest');
 */
export class OciLayout {
  private constructor(readonly dir: string) {}

  /**
   * Opens the layout at `dir`, creating `oci-layout` and an empty `index.json` when absent, and
   * removing temporary files a killed writer left there over an hour ago.
   */
  static async open(dir: string): Promise<OciLayout> {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    await removeStaleTemporaries(dir);
    const layout = new OciLayout(dir);
    const marker = join(dir, 'oci-layout');
    try {
      const parsed = JSON.parse(await readFile(marker, 'utf8')) as { imageLayoutVersion?: unknown };
      if (parsed.imageLayoutVersion !== '1.0.0') throw new Error('imageLayoutVersion is not "1.0.0"');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new BuilderError('SPROUT_ERR_BUILDER_LAYOUT_INVALID', `${marker}: ${(err as Error).message}`, {
          field: 'oci-layout',
        });
      await writeFile(marker, '{"imageLayoutVersion":"1.0.0"}');
    }
    try {
      await stat(join(dir, 'index.json'));
    } catch {
      await layout.writeIndex({ schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: [] });
    }
    return layout;
  }

  /** The file of a blob (which may not exist). */
  blobPath(digest: Digest): string {
    if (!isDigest(digest))
      throw new BuilderError('SPROUT_ERR_BUILDER_LAYOUT_INVALID', `${String(digest)} is not a sha256 digest`);
    return join(this.dir, 'blobs', 'sha256', digestHex(digest));
  }

  /** True when the layout holds the blob. */
  async has(digest: Digest): Promise<boolean> {
    try {
      return (await stat(this.blobPath(digest))).isFile();
    } catch {
      return false;
    }
  }

  /** A writer for a new blob (streamed; see `BlobWriter`). */
  newBlob(): Promise<BlobWriter> {
    return BlobWriter.open(this.dir);
  }

  /**
   * Puts a blob of another layout into this one without reading it: a hard link (the blob is
   * immutable), a copy renamed into place when the two are on different file systems.
   */
  async linkBlob(from: OciLayout, digest: Digest): Promise<void> {
    if (from.dir === this.dir || (await this.has(digest))) return;
    const to = this.blobPath(digest);
    try {
      await link(from.blobPath(digest), to);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return;
      if (code === 'ENOENT') throw missing(digest);
      const tmp = join(this.dir, '.sprout-tmp', randomBytes(8).toString('hex'));
      await mkdir(join(this.dir, '.sprout-tmp'), { recursive: true });
      try {
        await copyFile(from.blobPath(digest), tmp);
        await rename(tmp, to);
      } finally {
        await rm(tmp, { force: true });
      }
    }
  }

  /** Puts an image of another layout (manifest, config, layers) into this one, blobs linked. */
  async linkImage(from: OciLayout, image: OciImage): Promise<void> {
    for (const d of [image.descriptor, image.manifest.config, ...image.manifest.layers])
      await this.linkBlob(from, d.digest);
  }

  /** Stores `bytes` and returns their descriptor. */
  async putBytes(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = sha256(bytes);
    if (!(await this.has(digest))) {
      const w = await this.newBlob();
      await w.write(bytes);
      await w.commit(digest);
    }
    return { mediaType, digest, size: bytes.length };
  }

  /** Stores `value` as JSON (keys in the order given: callers build documents in a fixed order). */
  putJson(value: unknown, mediaType: string): Promise<Descriptor> {
    return this.putBytes(Buffer.from(JSON.stringify(value)), mediaType);
  }

  /** A stream of a blob's bytes. */
  async openBlob(digest: Digest): Promise<ReadStream> {
    if (!(await this.has(digest))) throw missing(digest);
    return createReadStream(this.blobPath(digest));
  }

  /** A small blob (a JSON document) read whole, its size bounded and its digest checked. */
  async readSmallBlob(digest: Digest, limit = MAX_JSON_BYTES): Promise<Buffer> {
    let handle;
    try {
      handle = await open(this.blobPath(digest), 'r');
    } catch {
      throw missing(digest);
    }
    try {
      const { size } = await handle.stat();
      if (size > limit)
        throw new BuilderError(
          'SPROUT_ERR_BUILDER_LAYOUT_INVALID',
          `blob ${digest} is ${size} bytes, over ${limit}`,
        );
      const bytes = await handle.readFile();
      if (sha256(bytes) !== digest)
        throw new BuilderError(
          'SPROUT_ERR_BUILDER_DIGEST_MISMATCH',
          `blob ${digest} in ${this.dir} is corrupt (its content has another digest); rebuild or pull the image again`,
        );
      return bytes;
    } finally {
      await handle.close();
    }
  }

  /** The layout's `index.json`, checked. */
  async readIndex(): Promise<ImageIndex> {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.dir, 'index.json'));
    } catch (err) {
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_LAYOUT_INVALID',
        `${this.dir} has no readable index.json (${(err as Error).message})`,
        { field: 'index.json' },
      );
    }
    if (bytes.length > MAX_JSON_BYTES)
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_LAYOUT_INVALID',
        `index.json is over ${MAX_JSON_BYTES} bytes`,
      );
    return parseIndex(bytes, 'index.json');
  }

  private async writeIndex(index: ImageIndex): Promise<void> {
    const tmp = join(this.dir, `.index.json.${randomBytes(6).toString('hex')}`);
    await writeFile(tmp, JSON.stringify(index));
    await rename(tmp, join(this.dir, 'index.json'));
  }

  /** Names `image` `refName` in `index.json` (replacing an entry of that name). */
  async tag(image: OciImage, refName: string): Promise<void> {
    const index = await this.readIndex();
    const others = index.manifests.filter((d) => d.annotations?.[REF_NAME] !== refName);
    const entry: Descriptor = {
      mediaType: image.descriptor.mediaType,
      digest: image.descriptor.digest,
      size: image.descriptor.size,
      annotations: { [REF_NAME]: refName },
    };
    await this.writeIndex({ ...index, manifests: [...others, entry] });
  }

  /**
   * The image named `refName` in `index.json` (or the only image when `refName` is omitted); an
   * index entry that is itself an index is followed to the manifest for linux and this machine's
   * architecture. Every document is checked and its digest verified.
   */
  async image(refName?: string): Promise<OciImage> {
    const index = await this.readIndex();
    const entries =
      refName === undefined
        ? index.manifests
        : index.manifests.filter((d) => d.annotations?.[REF_NAME] === refName);
    if (entries.length !== 1)
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_IMAGE_NOT_FOUND',
        refName === undefined
          ? `${this.dir} holds ${entries.length} images; name one (${index.manifests.map((d) => d.annotations?.[REF_NAME] ?? d.digest).join(', ') || 'none'})`
          : `${this.dir} has no image named ${JSON.stringify(refName)}`,
        { field: 'ref' },
      );
    return this.imageAt(entries[0]!);
  }

  /** The image a descriptor points at (a manifest, or an index resolved for this platform). */
  async imageAt(descriptor: Descriptor, depth = 0): Promise<OciImage> {
    const bytes = await this.readSmallBlob(descriptor.digest);
    if (
      descriptor.mediaType === MEDIA_TYPES.index ||
      descriptor.mediaType === MEDIA_TYPES.dockerManifestList
    ) {
      if (depth > 2)
        throw new BuilderError('SPROUT_ERR_BUILDER_LAYOUT_INVALID', 'image indexes nest more than 3 deep');
      const chosen = pickPlatform(parseIndex(bytes).manifests);
      return this.imageAt(chosen, depth + 1);
    }
    const manifest = parseManifest(bytes);
    const config = parseConfig(await this.readSmallBlob(manifest.config.digest));
    if (config.rootfs.diff_ids.length !== manifest.layers.length)
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_LAYOUT_INVALID',
        `image ${descriptor.digest}: the config lists ${config.rootfs.diff_ids.length} diff_ids for ${manifest.layers.length} layers`,
        { field: 'rootfs.diff_ids' },
      );
    return {
      descriptor: { mediaType: manifest.mediaType, digest: descriptor.digest, size: bytes.length },
      manifest,
      config,
    };
  }
}

/** The OCI name of this machine's architecture. */
export function ociArchitecture(arch: string = process.arch): string {
  return (
    (
      { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as Record<
        string,
        string
      >
    )[arch] ?? arch
  );
}

/** From an index, the manifest for linux on this machine's architecture. */
export function pickPlatform(manifests: Descriptor[]): Descriptor {
  const arch = ociArchitecture();
  const found = manifests.find(
    (d) => !d.platform || (d.platform.os === 'linux' && d.platform.architecture === arch),
  );
  if (!found)
    throw new BuilderError(
      'SPROUT_ERR_BUILDER_IMAGE_NOT_FOUND',
      `the image index has no manifest for linux/${arch} (it has ${manifests.map((d) => `${d.platform?.os}/${d.platform?.architecture}`).join(', ')})`,
      { field: 'platform' },
    );
  return found;
}

function missing(digest: Digest): BuilderError {
  return new BuilderError(
    'SPROUT_ERR_BUILDER_BLOB_MISSING',
    `blob ${digest} is not in the layout; pull or rebuild the image`,
  );
}
