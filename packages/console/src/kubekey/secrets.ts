import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SECRET_REF_PREFIX, type ClusterConfig } from './config.js';
import { ClusterError } from './errors.js';

/** Sealed secrets of one cluster config: id → base64 of IV (12 bytes), tag (16) and ciphertext. */
export type SealedSecrets = Record<string, string>;

/**
 * AES-256-GCM with one key kept in a 0600 file (created on first use). Each value is bound to the
 * cluster and id it was sealed for, so a value copied to another slot does not open.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(keyFile: string) {
    this.#key = loadKey(keyFile);
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#key, iv);
    c.setAAD(Buffer.from(context));
    const data = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), data]).toString('base64');
  }

  open(sealed: string, context: string): string {
    try {
      const buf = Buffer.from(sealed, 'base64');
      const d = createDecipheriv('aes-256-gcm', this.#key, buf.subarray(0, 12));
      d.setAAD(Buffer.from(context));
      d.setAuthTag(buf.subarray(12, 28));
      return Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString('utf8');
    } catch (err) {
      throw new ClusterError(
        'SPROUT_ERR_CONSOLE_CLUSTER_SECRET_UNREADABLE',
        `a stored secret (${context}) does not open with this data dir's key: the key file was replaced; enter the password or key again`,
        { cause: err },
      );
    }
  }
}

function loadKey(file: string): Buffer {
  try {
    const st = statSync(file);
    if ((st.mode & 0o077) !== 0) {
      throw new ClusterError(
        'SPROUT_ERR_CONSOLE_CLUSTER_SECRET_KEY',
        `${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 it`,
      );
    }
    const key = readFileSync(file);
    if (key.length !== 32) {
      throw new ClusterError(
        'SPROUT_ERR_CONSOLE_CLUSTER_SECRET_KEY',
        `${file} is not a 32-byte key: restore it from a backup`,
      );
    }
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return key;
}

/** Where a config holds secrets: each host's password and private key, each registry login's password. */
function secretSlots(c: ClusterConfig): { path: string; get: () => unknown; set: (v: string) => void }[] {
  const slots: { path: string; get: () => unknown; set: (v: string) => void }[] = [];
  c.spec.hosts.forEach((h, i) => {
    for (const f of ['password', 'privateKey'] as const) {
      if (h[f] !== undefined && h[f] !== '') {
        slots.push({ path: `/spec/hosts/${i}/${f}`, get: () => h[f], set: (v) => (h[f] = v) });
      }
    }
  });
  for (const [host, a] of Object.entries(c.spec.registry?.auths ?? {})) {
    if (a && typeof a === 'object' && a.password !== undefined && a.password !== '') {
      slots.push({
        path: `/spec/registry/auths/${host}/password`,
        get: () => a.password,
        set: (v) => (a.password = v),
      });
    }
  }
  return slots;
}

/**
 * Replaces every secret in `config` (a copy is changed) with a reference, sealing new values.
 * A reference already in `previous` keeps its sealed value; one that is not is refused (its
 * secret is gone: the user types it again).
 */
export function sealSecrets(
  config: ClusterConfig,
  box: SecretBox,
  previous: SealedSecrets,
): { config: ClusterConfig; sealed: SealedSecrets } {
  const copy = structuredClone(config);
  const name = copy.metadata.name;
  const sealed: SealedSecrets = {};
  for (const slot of secretSlots(copy)) {
    const value = String(slot.get());
    if (value.startsWith(SECRET_REF_PREFIX)) {
      const id = value.slice(SECRET_REF_PREFIX.length);
      const kept = previous[id];
      if (kept === undefined) {
        throw new ClusterError(
          'SPROUT_ERR_CONSOLE_CLUSTER_INVALID',
          'this secret reference is not stored for this cluster: type the password or key again',
          {
            field: slot.path,
            issues: [{ path: slot.path, message: 'type the password or key again', severity: 'error' }],
          },
        );
      }
      sealed[id] = kept;
    } else {
      const id = randomBytes(9).toString('base64url');
      sealed[id] = box.seal(value, `${name}/${id}`);
      slot.set(`${SECRET_REF_PREFIX}${id}`);
    }
  }
  return { config: copy, sealed };
}

/** A copy of `config` with every reference replaced by its secret: what `kk` reads, and only kk. */
export function openSecrets(config: ClusterConfig, box: SecretBox, sealed: SealedSecrets): ClusterConfig {
  const copy = structuredClone(config);
  for (const slot of secretSlots(copy)) {
    const value = String(slot.get());
    if (!value.startsWith(SECRET_REF_PREFIX)) continue;
    const id = value.slice(SECRET_REF_PREFIX.length);
    const s = sealed[id];
    if (s === undefined) {
      throw new ClusterError(
        'SPROUT_ERR_CONSOLE_CLUSTER_SECRET_UNREADABLE',
        `the secret for ${slot.path} is missing: type it again`,
        { field: slot.path },
      );
    }
    slot.set(box.open(s, `${copy.metadata.name}/${id}`));
  }
  return copy;
}
