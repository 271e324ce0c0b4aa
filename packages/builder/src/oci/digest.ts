import { createHash } from 'node:crypto';
import type { Digest } from './types.js';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** True when `value` is a sha256 digest (`sha256:` and 64 lowercase hex digits). */
export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && DIGEST.test(value);
}

/** The sha256 digest of `bytes`. */
export function sha256(bytes: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The 64 hex digits of a digest (its file name under `blobs/sha256/`). */
export function digestHex(digest: Digest): string {
  return digest.slice('sha256:'.length);
}
