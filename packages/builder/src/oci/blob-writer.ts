import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { BuilderError } from '../errors.js';
import { digestHex } from './digest.js';
import type { Digest } from './types.js';

/**
 * A blob being written into a layout: bytes go to a temporary file and through sha256; `commit`
 * renames the file to `blobs/sha256/<hex>` only once it is whole, so a crash never leaves a
 * half-written blob under a digest name.
 */
export class BlobWriter {
  readonly #hash = createHash('sha256');
  readonly #file: WriteStream;
  readonly #tmp: string;
  readonly #blobsDir: string;
  #size = 0;
  #done = false;

  private constructor(tmp: string, blobsDir: string) {
    this.#tmp = tmp;
    this.#blobsDir = blobsDir;
    this.#file = createWriteStream(tmp, { flags: 'wx' });
  }

  /** Opens a writer for a blob of the layout at `layoutDir`. */
  static async open(layoutDir: string): Promise<BlobWriter> {
    const tmpDir = join(layoutDir, '.sprout-tmp');
    const blobsDir = join(layoutDir, 'blobs', 'sha256');
    await mkdir(tmpDir, { recursive: true });
    await mkdir(blobsDir, { recursive: true });
    const writer = new BlobWriter(join(tmpDir, randomBytes(8).toString('hex')), blobsDir);
    await once(writer.#file, 'open');
    return writer;
  }

  /** Bytes written so far. */
  get size(): number {
    return this.#size;
  }

  /** Appends bytes; resolves when the file accepts more (backpressure). */
  async write(chunk: Uint8Array): Promise<void> {
    this.#hash.update(chunk);
    this.#size += chunk.length;
    if (!this.#file.write(chunk)) await once(this.#file, 'drain');
  }

  /**
   * Closes the file and moves it to its digest name. With `expected`, a different digest is refused
   * with `SPROUT_ERR_BUILDER_DIGEST_MISMATCH` and the bytes are dropped.
   */
  async commit(expected?: Digest): Promise<{ digest: Digest; size: number }> {
    this.#done = true;
    this.#file.end();
    await once(this.#file, 'close');
    const digest: Digest = `sha256:${this.#hash.digest('hex')}`;
    if (expected !== undefined && expected !== digest) {
      await rm(this.#tmp, { force: true });
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_DIGEST_MISMATCH',
        `blob content has digest ${digest}, expected ${expected}; the source sent other bytes than it named — retry, or check the registry's storage`,
      );
    }
    await rename(this.#tmp, join(this.#blobsDir, digestHex(digest)));
    return { digest, size: this.#size };
  }

  /** Drops the temporary file (after a failure). */
  async abort(): Promise<void> {
    if (!this.#done) {
      this.#done = true;
      this.#file.destroy();
    }
    await rm(this.#tmp, { force: true });
  }
}

/**
 * Removes the temporary files a killed writer left in a layout (`.sprout-tmp/*` and
 * `.index.json.*`) once older than `olderThanMs` (default 1 h; a live writer's file is newer).
 * Returns how many went.
 */
export async function removeStaleTemporaries(layoutDir: string, olderThanMs = 3_600_000): Promise<number> {
  const cutoff = Date.now() - olderThanMs;
  const candidates: string[] = [];
  const tmpDir = join(layoutDir, '.sprout-tmp');
  for (const name of await readdir(tmpDir).catch(() => [])) candidates.push(join(tmpDir, name));
  for (const name of await readdir(layoutDir).catch(() => []))
    if (name.startsWith('.index.json.')) candidates.push(join(layoutDir, name));
  let removed = 0;
  for (const file of candidates) {
    const st = await stat(file).catch(() => undefined);
    if (st?.isFile() && st.mtimeMs < cutoff) {
      await rm(file, { force: true });
      removed++;
    }
  }
  return removed;
}
