import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { CollectorError } from '../errors.js';
import type { CollectorRecord } from '../types.js';

/** A chunk file being written: records are appended as JSON lines and reach the kernel on append. */
export interface OpenChunk {
  path: string;
  fd: number;
}

/**
 * Filesystem chunks for one output: `<dir>/<seq>.chunk`, one JSON line per record. A chunk is
 * deleted only after the output accepted it, so a crash (even kill -9) leaves every accepted record
 * on disk for the next start to deliver.
 */
export class ChunkStore {
  private seq = Date.now() * 1000;
  /** Bytes of every chunk file this store holds (pending, open and sealed). */
  private sizes = new Map<string, number>();
  private total = 0;

  constructor(
    readonly dir: string,
    private readonly sync: boolean,
  ) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new CollectorError('SPROUT_ERR_COLLECTOR_BUFFER', `cannot create ${dir}`, 'storage.path', {
        cause: err,
      });
    }
  }

  /** Chunk files left by an earlier run, oldest first. */
  pending(): string[] {
    const paths = readdirSync(this.dir)
      .filter((f) => f.endsWith('.chunk'))
      .sort()
      .map((f) => join(this.dir, f));
    for (const p of paths) {
      const n = statSync(p).size;
      this.total += n - (this.sizes.get(p) ?? 0);
      this.sizes.set(p, n);
    }
    return paths;
  }

  create(): OpenChunk {
    const path = join(this.dir, `${String(++this.seq).padStart(20, '0')}.chunk`);
    this.sizes.set(path, 0);
    return { path, fd: openSync(path, 'a') };
  }

  /** Appends records encoded with `encodeChunkLines`. */
  append(chunk: OpenChunk, lines: Buffer): void {
    const n = writeSync(chunk.fd, lines);
    this.sizes.set(chunk.path, (this.sizes.get(chunk.path) ?? 0) + n);
    this.total += n;
    if (this.sync) fsyncSync(chunk.fd);
  }

  seal(chunk: OpenChunk): void {
    closeSync(chunk.fd);
  }

  /** Reads a chunk; a torn last line (the process died mid-write) is skipped and counted. */
  read(path: string): { records: CollectorRecord[]; torn: number } {
    const records: CollectorRecord[] = [];
    let torn = 0;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        records.push(decodeRecord(line));
      } catch {
        torn++;
      }
    }
    return { records, torn };
  }

  remove(path: string): void {
    rmSync(path, { force: true });
    this.total -= this.sizes.get(path) ?? 0;
    this.sizes.delete(path);
  }

  /** Bytes on disk across this store's chunks. */
  totalBytes(): number {
    return this.total;
  }
}

/** Records as the lines a chunk file holds (what `append` writes; its length is what the disk gains). */
export function encodeChunkLines(records: CollectorRecord[]): Buffer {
  let text = '';
  for (const r of records) text += encodeRecord(r) + '\n';
  return Buffer.from(text, 'utf8');
}

function encodeRecord(r: CollectorRecord): string {
  return JSON.stringify({ t: r.time.toString(), g: r.tag, b: r.body, k: r.kind, m: r.meta });
}

function decodeRecord(line: string): CollectorRecord {
  const o = JSON.parse(line) as {
    t: string;
    g: string;
    b: Record<string, unknown>;
    k?: CollectorRecord['kind'];
    m?: Record<string, unknown>;
  };
  const r: CollectorRecord = { time: BigInt(o.t), tag: o.g, body: o.b };
  if (o.k) r.kind = o.k;
  if (o.m) r.meta = o.m;
  return r;
}
