import { BuilderError } from '../errors.js';
import { isDigest } from './digest.js';
import {
  MEDIA_TYPES,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
} from './types.js';

/**
 * Checked parsing of the JSON documents of an image (from a layout on disk or a registry): each is
 * refused with `SPROUT_ERR_BUILDER_LAYOUT_INVALID` naming the field at fault, never half-trusted.
 */

type Json = Record<string, unknown>;

function invalid(what: string, field: string, why: string): BuilderError {
  return new BuilderError('SPROUT_ERR_BUILDER_LAYOUT_INVALID', `${what}: ${field} ${why}`, { field });
}

function object(value: unknown, what: string, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(what, field, 'must be an object');
  return value as Json;
}

function parseJson(bytes: Uint8Array | string, what: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw invalid(what, '(document)', `is not JSON (${(err as Error).message})`);
  }
  return object(value, what, '(document)');
}

function stringMap(value: unknown, what: string, field: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  const map = object(value, what, field);
  for (const [k, v] of Object.entries(map))
    if (typeof v !== 'string') throw invalid(what, `${field}.${k}`, 'must be a string');
  return map as Record<string, string>;
}

/** A descriptor checked: media type, sha256 digest, non-negative safe integer size. */
export function parseDescriptor(value: unknown, what: string, field: string): Descriptor {
  const d = object(value, what, field);
  if (typeof d.mediaType !== 'string' || d.mediaType === '')
    throw invalid(what, `${field}.mediaType`, 'must be a non-empty string');
  if (!isDigest(d.digest)) throw invalid(what, `${field}.digest`, 'must be sha256:<64 hex digits>');
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0)
    throw invalid(what, `${field}.size`, 'must be a non-negative integer');
  const annotations = stringMap(d.annotations, what, `${field}.annotations`);
  return { ...d, annotations } as Descriptor;
}

function descriptors(value: unknown, what: string, field: string): Descriptor[] {
  if (!Array.isArray(value)) throw invalid(what, field, 'must be an array');
  return value.map((v, i) => parseDescriptor(v, what, `${field}[${i}]`));
}

function schemaVersion2(doc: Json, what: string): void {
  if (doc.schemaVersion !== 2) throw invalid(what, 'schemaVersion', 'must be 2');
}

/** An image index (`index.json` of a layout, or an index/manifest list from a registry). */
export function parseIndex(bytes: Uint8Array | string, what = 'image index'): ImageIndex {
  const doc = parseJson(bytes, what);
  schemaVersion2(doc, what);
  return { ...doc, manifests: descriptors(doc.manifests, what, 'manifests') } as ImageIndex;
}

/** An image manifest (OCI or Docker schema 2). */
export function parseManifest(bytes: Uint8Array | string, what = 'image manifest'): ImageManifest {
  const doc = parseJson(bytes, what);
  schemaVersion2(doc, what);
  const mediaType = doc.mediaType ?? MEDIA_TYPES.manifest;
  if (mediaType !== MEDIA_TYPES.manifest && mediaType !== MEDIA_TYPES.dockerManifest)
    throw invalid(what, 'mediaType', `${JSON.stringify(mediaType)} is not an image manifest`);
  return {
    ...doc,
    mediaType,
    config: parseDescriptor(doc.config, what, 'config'),
    layers: descriptors(doc.layers, what, 'layers'),
  } as ImageManifest;
}

/** An image config; `rootfs.diff_ids` must hold one digest per manifest layer (checked by the caller). */
export function parseConfig(bytes: Uint8Array | string, what = 'image config'): ImageConfig {
  const doc = parseJson(bytes, what);
  if (typeof doc.os !== 'string') throw invalid(what, 'os', 'must be a string');
  if (typeof doc.architecture !== 'string') throw invalid(what, 'architecture', 'must be a string');
  const rootfs = object(doc.rootfs, what, 'rootfs');
  if (rootfs.type !== 'layers') throw invalid(what, 'rootfs.type', 'must be "layers"');
  if (!Array.isArray(rootfs.diff_ids) || !rootfs.diff_ids.every(isDigest))
    throw invalid(what, 'rootfs.diff_ids', 'must be an array of sha256 digests');
  if (doc.config !== undefined && doc.config !== null) {
    const c = object(doc.config, what, 'config');
    stringMap(c.Labels, what, 'config.Labels');
    for (const key of ['Env', 'Entrypoint', 'Cmd'] as const)
      if (
        c[key] !== undefined &&
        c[key] !== null &&
        !(Array.isArray(c[key]) && c[key].every((s) => typeof s === 'string'))
      )
        throw invalid(what, `config.${key}`, 'must be an array of strings');
  }
  if (doc.history !== undefined && !Array.isArray(doc.history))
    throw invalid(what, 'history', 'must be an array');
  return doc as unknown as ImageConfig;
}
