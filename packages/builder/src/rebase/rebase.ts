import { BuilderError } from '../errors.js';
import { writeManifest } from '../oci/image.js';
import type { OciLayout } from '../oci/layout.js';
import type { Digest, HistoryEntry, ImageConfig, OciImage } from '../oci/types.js';

/** The label the CNB platform spec keeps the lifecycle's metadata in (run image among it). */
export const LIFECYCLE_METADATA = 'io.buildpacks.lifecycle.metadata';

export interface RebaseResult {
  image: OciImage;
  /** Layers of the app kept as they were (every one after the old run image's top layer). */
  appLayers: number;
}

function unsupported(why: string, field = LIFECYCLE_METADATA): BuilderError {
  return new BuilderError('SPROUT_ERR_BUILDER_REBASE_UNSUPPORTED', `cannot rebase: ${why}`, { field });
}

function readMetadata(app: OciImage): Record<string, unknown> & { runImage?: { topLayer?: unknown } } {
  const raw = app.config.config?.Labels?.[LIFECYCLE_METADATA];
  if (raw === undefined)
    throw unsupported(
      `the image has no ${LIFECYCLE_METADATA} label (it was not built by a buildpacks lifecycle); rebuild it`,
    );
  try {
    const meta = JSON.parse(raw) as unknown;
    if (typeof meta === 'object' && meta !== null && !Array.isArray(meta))
      return meta as Record<string, unknown>;
  } catch {
    // refused below
  }
  throw unsupported(`the ${LIFECYCLE_METADATA} label is not a JSON object`);
}

/** How many layers of `app` belong to its run image: up to and including the recorded top layer. */
function runLayerCount(app: OciImage, topLayer: unknown): number {
  if (typeof topLayer !== 'string')
    throw unsupported(
      'the lifecycle metadata names no runImage.topLayer',
      `${LIFECYCLE_METADATA}.runImage.topLayer`,
    );
  // the spec records the top layer's diffID; a layer (blob) digest is accepted too
  let at = app.config.rootfs.diff_ids.lastIndexOf(topLayer as Digest);
  if (at < 0) at = app.manifest.layers.map((l) => l.digest).lastIndexOf(topLayer as Digest);
  if (at < 0)
    throw unsupported(
      `the run image's top layer ${topLayer} is not among the image's layers`,
      `${LIFECYCLE_METADATA}.runImage.topLayer`,
    );
  return at + 1;
}

/** The history entries after the first `layers` non-empty ones. */
function historyAfter(history: HistoryEntry[] | undefined, layers: number): HistoryEntry[] {
  if (!history) return [];
  let seen = 0;
  let i = 0;
  while (i < history.length && seen < layers) if (!history[i++]!.empty_layer) seen++;
  return history.slice(i);
}

/**
 * Puts the app layers of `app` on `runImage` without rebuilding: the layers up to the run image's
 * top layer (from `io.buildpacks.lifecycle.metadata`) are replaced by the new run image's, every
 * app layer keeps its digest, the config keeps the app's process settings, and the metadata's
 * `runImage` (`topLayer` diffID, `reference` digest, `image`) names the new run image. Both images
 * must be in `layout` as manifests and configs; app layer blobs need not be (a registry already has them).
 *
 * @example
 * const { image } = await rebaseImage(layout, app, { image: newRun, ref: 'registry/run:2' });
 */
export async function rebaseImage(
  layout: OciLayout,
  app: OciImage,
  runImage: { image: OciImage; ref?: string },
): Promise<RebaseResult> {
  const meta = readMetadata(app);
  const oldCount = runLayerCount(app, meta.runImage?.topLayer);
  const run = runImage.image;
  if (run.config.os !== app.config.os || run.config.architecture !== app.config.architecture)
    throw unsupported(
      `the run image is ${run.config.os}/${run.config.architecture}, the app ${app.config.os}/${app.config.architecture}`,
      'runImage',
    );
  const runDiffIds = run.config.rootfs.diff_ids;
  const newTop = runDiffIds.at(-1);
  if (newTop === undefined) throw unsupported('the new run image has no layers', 'runImage');
  const runImageMeta = {
    ...(meta.runImage ?? {}),
    topLayer: newTop,
    reference: run.descriptor.digest,
    ...(runImage.ref ? { image: runImage.ref } : {}),
  };
  const config: ImageConfig = {
    ...app.config,
    config: {
      ...app.config.config,
      Labels: {
        ...app.config.config?.Labels,
        [LIFECYCLE_METADATA]: JSON.stringify({ ...meta, runImage: runImageMeta }),
      },
    },
    rootfs: { type: 'layers', diff_ids: [...runDiffIds, ...app.config.rootfs.diff_ids.slice(oldCount)] },
    history: [...(run.config.history ?? []), ...historyAfter(app.config.history, oldCount)],
  };
  const appLayers = app.manifest.layers.slice(oldCount);
  const image = await writeManifest(layout, config, [...run.manifest.layers, ...appLayers]);
  return { image, appLayers: appLayers.length };
}
