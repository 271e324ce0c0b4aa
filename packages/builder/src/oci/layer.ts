import { createReadStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { BuilderError } from '../errors.js';
import { collectEntries, type LayerEntry, type LayerSource } from './layer-entries.js';
import type { OciLayout } from './layout.js';
import { encodeHeader, END_OF_ARCHIVE, padding } from './tar-header.js';
import { MEDIA_TYPES, type Digest, type LayerDescriptor } from './types.js';

/** The CNB constant for reproducible builds: every entry's mtime is 1980-01-01T00:00:01Z. */
export const NORMALIZED_TIME = new Date('1980-01-01T00:00:01Z');

/** Bytes handed to gzip at once. */
const BATCH = 256 * 1024;
/** Files up to this size are read in one call, larger ones streamed. */
const READ_WHOLE = 1024 * 1024;

export interface LayerOptions {
  /** Owner of every entry unless a source says otherwise (default 0:0; CNB layers: the build user). */
  uid?: number;
  gid?: number;
  /** Modification time of every entry (default `NORMALIZED_TIME`). */
  mtime?: Date;
  /** gzip level, 0–9 (default 6; fixed so that the digest is). */
  gzipLevel?: number;
}

/**
 * Writes one layer into `layout` from `sources` and returns its descriptor (digest and size of the
 * gzip blob) with its diffID (digest of the uncompressed tar). Entries are sorted, owners and
 * times fixed and parents included, so the same input gives the same digest. Files are streamed
 * (never held whole in memory); a file that changes size while read is refused.
 *
 * @example
 * const layer = await writeLayer(layout, [{ from: appDir, to: '/workspace' }], { uid: 1000, gid: 1000 });
 */
export async function writeLayer(
  layout: OciLayout,
  sources: LayerSource[],
  options: LayerOptions = {},
): Promise<LayerDescriptor> {
  const mtime = Math.floor((options.mtime ?? NORMALIZED_TIME).getTime() / 1000);
  const entries = await collectEntries(sources, { uid: options.uid ?? 0, gid: options.gid ?? 0, mtime });
  const blob = await layout.newBlob();
  const tarHash = createHash('sha256');
  const gzip = createGzip({ level: options.gzipLevel ?? 6 });
  // the compressed side: gzip output into the blob writer, one chunk at a time (backpressure both ways)
  const drained = (async () => {
    for await (const chunk of gzip) await blob.write(chunk as Buffer);
  })();
  // Tar bytes are gathered into chunks of BATCH before gzip sees them: one zlib call (a trip to
  // the thread pool) per header or small file would cost more than the compression itself.
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    if (!gzip.write(chunk)) await Promise.race([once(gzip, 'drain'), drained]);
  };
  const push = async (bytes: Uint8Array): Promise<void> => {
    if (bytes.length === 0) return;
    tarHash.update(bytes);
    pending.push(bytes);
    pendingBytes += bytes.length;
    if (pendingBytes >= BATCH) await flush();
  };
  try {
    for (const entry of entries) {
      await push(encodeHeader(entry));
      if (entry.type === 'file') {
        await writeContent(entry, push);
        await push(padding(entry.size));
      }
    }
    await push(END_OF_ARCHIVE);
    await flush();
    gzip.end();
    await drained;
    const { digest, size } = await blob.commit();
    const diffId: Digest = `sha256:${tarHash.digest('hex')}`;
    return { mediaType: MEDIA_TYPES.layerGzip, digest, size, diffId };
  } catch (err) {
    gzip.destroy();
    await drained.catch(() => undefined);
    await blob.abort();
    throw err;
  }
}

async function writeContent(entry: LayerEntry, push: (b: Uint8Array) => Promise<void>): Promise<void> {
  if (entry.content) return push(entry.content);
  let seen = 0;
  if (entry.size <= READ_WHOLE) {
    // A small file in one read (most of a node_modules tree): a stream per file costs several trips
    // through the thread pool.
    const bytes = readFileSync(entry.hostPath!);
    seen = bytes.length;
    if (seen === entry.size) await push(bytes);
  } else {
    for await (const chunk of createReadStream(entry.hostPath!)) {
      const bytes = chunk as Buffer;
      seen += bytes.length;
      if (seen > entry.size) break;
      await push(bytes);
    }
  }
  if (seen !== entry.size)
    throw new BuilderError(
      'SPROUT_ERR_BUILDER_LAYER_SOURCE',
      `${entry.hostPath} changed size while it was read (${entry.size} bytes, then ${seen}); stop what writes to it and build again`,
      { field: 'from' },
    );
}
