import { NORMALIZED_TIME } from './layer.js';
import { ociArchitecture, type OciLayout } from './layout.js';
import {
  MEDIA_TYPES,
  type Descriptor,
  type HistoryEntry,
  type ImageConfig,
  type ImageManifest,
  type LayerDescriptor,
  type OciImage,
} from './types.js';

/** Process settings of an image config; each given one replaces the base's (Env and Labels merge by key). */
export interface ConfigChanges {
  env?: Record<string, string>;
  entrypoint?: string[];
  cmd?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  exposedPorts?: string[];
  stopSignal?: string;
}

/** A layer to add on top, with the history line that says where it came from. */
export interface AddedLayer {
  layer: LayerDescriptor;
  createdBy?: string;
  comment?: string;
}

export interface ImageSpec {
  /** The image built on (its layer blobs must be in the same layout); none for an image from scratch. */
  base?: OciImage;
  layers: AddedLayer[];
  config?: ConfigChanges;
  /** The config's `created` and the history times (default 1980-01-01T00:00:01Z, as CNB does). */
  created?: Date;
  /** Defaults: the base's, else linux and this machine's architecture. */
  os?: string;
  architecture?: string;
}

function mergeEnv(
  base: string[] | undefined,
  changes: Record<string, string> | undefined,
): string[] | undefined {
  if (!changes) return base;
  const out = new Map<string, string>();
  for (const line of base ?? []) {
    const eq = line.indexOf('=');
    out.set(eq < 0 ? line : line.slice(0, eq), eq < 0 ? '' : line.slice(eq + 1));
  }
  for (const [k, v] of Object.entries(changes)) out.set(k, v);
  return [...out].map(([k, v]) => `${k}=${v}`);
}

/** The image config of `spec`: the base's config with the changes and layers applied. */
export function composeConfig(spec: ImageSpec): ImageConfig {
  const created = (spec.created ?? NORMALIZED_TIME).toISOString();
  const base = spec.base?.config;
  const c = { ...base?.config };
  const ch = spec.config ?? {};
  const process = {
    ...c,
    ...(ch.user !== undefined ? { User: ch.user } : {}),
    ...(ch.env || c.Env ? { Env: mergeEnv(c.Env, ch.env) } : {}),
    ...(ch.entrypoint ? { Entrypoint: ch.entrypoint } : {}),
    ...(ch.cmd ? { Cmd: ch.cmd } : {}),
    ...(ch.workingDir !== undefined ? { WorkingDir: ch.workingDir } : {}),
    ...(ch.labels || c.Labels ? { Labels: { ...c.Labels, ...ch.labels } } : {}),
    ...(ch.exposedPorts ? { ExposedPorts: Object.fromEntries(ch.exposedPorts.map((p) => [p, {}])) } : {}),
    ...(ch.stopSignal ? { StopSignal: ch.stopSignal } : {}),
  };
  const history: HistoryEntry[] = [
    ...(base?.history ?? []),
    ...spec.layers.map((l) => ({
      created,
      ...(l.createdBy ? { created_by: l.createdBy } : {}),
      ...(l.comment ? { comment: l.comment } : {}),
    })),
  ];
  return {
    created,
    architecture: spec.architecture ?? base?.architecture ?? ociArchitecture(),
    os: spec.os ?? base?.os ?? 'linux',
    ...(base?.variant ? { variant: base.variant } : {}),
    config: process,
    rootfs: {
      type: 'layers',
      diff_ids: [...(base?.rootfs.diff_ids ?? []), ...spec.layers.map((l) => l.layer.diffId)],
    },
    history,
  };
}

/** Writes a config and manifest for `layers` into the layout and returns the image. */
export async function writeManifest(
  layout: OciLayout,
  config: ImageConfig,
  layers: Descriptor[],
): Promise<OciImage> {
  const configDescriptor = await layout.putJson(config, MEDIA_TYPES.config);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: configDescriptor,
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const descriptor = await layout.putJson(manifest, MEDIA_TYPES.manifest);
  return { descriptor, manifest, config };
}

/**
 * Writes the image of `spec` (config and manifest blobs) into `layout`; the layer blobs must be
 * there already (`writeLayer`, or the base image's). Tag it with `layout.tag(image, name)`.
 *
 * @example
 * const image = await writeImage(layout, { base: runImage, layers: [{ layer, createdBy: 'app' }], config: { user: '1000:1000' } });
 */
export function writeImage(layout: OciLayout, spec: ImageSpec): Promise<OciImage> {
  const layers = [...(spec.base?.manifest.layers ?? []), ...spec.layers.map((l) => l.layer)];
  return writeManifest(layout, composeConfig(spec), layers);
}
