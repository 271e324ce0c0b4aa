import { createHash } from 'node:crypto';
import { decode, encode } from '@msgpack/msgpack';
import { decodeOpts, ForwardError, isMap, utf8 } from './codec.js';

/** The forward protocol's shared-key handshake: HELO, PING and PONG, and their digests. */

const sha512hex = (...parts: Array<Uint8Array | string>) => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

/** sha512_hex(salt + hostname + nonce + shared_key), the digest both PING and PONG carry. */
export const sharedKeyDigest = (
  salt: Uint8Array | string,
  hostname: string,
  nonce: Uint8Array,
  key: string,
) => sha512hex(salt, hostname, nonce, key);

/** sha512_hex(auth_salt + username + password), PING's user credential. */
export const passwordDigest = (salt: Uint8Array, username: string, password: string) =>
  sha512hex(salt, username, password);

const handshakeArray = (frame: Uint8Array, name: string, min: number): unknown[] => {
  let m: unknown;
  try {
    m = decode(frame, decodeOpts);
  } catch (err) {
    throw new ForwardError('protocol', `${name}: invalid msgpack: ${(err as Error).message}`);
  }
  if (!Array.isArray(m) || m.length < min || !(m[0] instanceof Uint8Array) || utf8.decode(m[0]) !== name) {
    throw new ForwardError('protocol', `expected ${name} to start the shared-key handshake`);
  }
  return m;
};
const str = (v: unknown, what: string): string => {
  if (v instanceof Uint8Array) return utf8.decode(v);
  throw new ForwardError('protocol', `${what} must be a string`);
};
const bytes = (v: unknown, what: string): Uint8Array => {
  if (v instanceof Uint8Array) return v;
  throw new ForwardError('protocol', `${what} must be a string or binary`);
};

export function encodeHelo(nonce: Uint8Array, authSalt: Uint8Array | undefined): Uint8Array {
  return encode(['HELO', { nonce, auth: authSalt ?? '', keepalive: true }]);
}

export function parseHelo(frame: Uint8Array): { nonce: Uint8Array; authSalt: Uint8Array } {
  const m = handshakeArray(frame, 'HELO', 2);
  const o = m[1];
  if (!isMap(o)) throw new ForwardError('protocol', 'HELO options must be a map');
  return {
    nonce: bytes(o.nonce, 'HELO nonce'),
    authSalt: o.auth === undefined ? new Uint8Array() : bytes(o.auth, 'HELO auth'),
  };
}

export interface Ping {
  hostname: string;
  salt: Uint8Array;
  digest: string;
  username: string;
  passwordDigest: string;
}

export function encodePing(p: Ping): Uint8Array {
  return encode(['PING', p.hostname, p.salt, p.digest, p.username, p.passwordDigest]);
}

export function parsePing(frame: Uint8Array): Ping {
  const m = handshakeArray(frame, 'PING', 4);
  return {
    hostname: str(m[1], 'PING hostname'),
    salt: bytes(m[2], 'PING salt'),
    digest: str(m[3], 'PING digest'),
    username: m[4] === undefined ? '' : str(m[4], 'PING username'),
    passwordDigest: m[5] === undefined ? '' : str(m[5], 'PING password digest'),
  };
}

export function encodePong(ok: boolean, reason: string, hostname: string, digest: string): Uint8Array {
  return encode(['PONG', ok, reason, hostname, digest]);
}

export function parsePong(frame: Uint8Array): {
  ok: boolean;
  reason: string;
  hostname: string;
  digest: string;
} {
  const m = handshakeArray(frame, 'PONG', 5);
  if (typeof m[1] !== 'boolean') throw new ForwardError('protocol', 'PONG result must be a boolean');
  return {
    ok: m[1],
    reason: str(m[2], 'PONG reason'),
    hostname: str(m[3], 'PONG hostname'),
    digest: str(m[4], 'PONG digest'),
  };
}
