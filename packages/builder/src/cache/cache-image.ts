import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BuilderError, isBuilderError } from '../errors.js';
import { layersDirName } from '../lifecycle/layers.js';
import { writeImage, writeLayer, type OciLayout } from '../oci/index.js';
import { pullImage, pushImage, type TransferOptions } from '../registry/transfer.js';
import type { CachedLayer, LayerCache } from './layer-cache.js';

const run = promisify(execFile);

/** The label of a cache image holding the cache's index (which layer is which, with its metadata). */
const CACHE_LABEL = 'dev.sprout.builder.cache';

/**
 * Pushes the cache (its `cache = true` layers, one image layer each, and its index as a label) to
 * `ref` (`--cache-image`), so a build on another machine, or a fresh CI runner, starts warm.
 */
export async function pushCacheImage(
  cache: LayerCache,
  ref: string,
  layout: OciLayout,
  options: TransferOptions,
): Promise<number> {
  const current = join(cache.dir, 'current');
  const indexFile = join(current, 'index.json');
  if (!existsSync(indexFile)) return 0;
  const index = JSON.parse(readFileSync(indexFile, 'utf8')) as { layers: CachedLayer[] };
  const layers = [];
  for (const l of index.layers) {
    const path = `${layersDirName(l.buildpack)}/${l.name}`;
    layers.push({
      layer: await writeLayer(layout, [{ from: join(current, path), to: path }]),
      createdBy: `cache ${l.buildpack}:${l.name}`,
    });
  }
  const image = await writeImage(layout, {
    layers,
    config: { labels: { [CACHE_LABEL]: JSON.stringify(index) } },
  });
  await pushImage(layout, image, ref, options);
  return layers.length;
}

/**
 * Fills an empty cache from the cache image `ref`: each layer unpacked (GNU tar) into a new folder
 * that becomes the cache by one rename. A cache image that does not exist yet is a cold build;
 * an existing local cache is kept (it is the newer one).
 */
export async function pullCacheImage(
  cache: LayerCache,
  ref: string,
  layout: OciLayout,
  options: TransferOptions,
): Promise<number> {
  const current = join(cache.dir, 'current');
  if (existsSync(join(current, 'index.json'))) return 0;
  let image;
  try {
    image = await pullImage(ref, layout, options);
  } catch (err) {
    if (isBuilderError(err, 'SPROUT_ERR_BUILDER_REGISTRY_NOT_FOUND')) return 0;
    throw err;
  }
  const label = image.config.config?.Labels?.[CACHE_LABEL];
  if (!label)
    throw new BuilderError(
      'SPROUT_ERR_BUILDER_OPTION_INVALID',
      `${ref} is not a cache image of sprout build (no ${CACHE_LABEL} label); name another --cache-image`,
      {
        field: 'cache-image',
      },
    );
  const next = join(cache.dir, `next-${randomBytes(6).toString('hex')}`);
  mkdirSync(next, { recursive: true });
  for (const layer of image.manifest.layers)
    await run('tar', ['-xzf', layout.blobPath(layer.digest), '-C', next, '--no-same-owner']);
  writeFileSync(join(next, 'index.json'), label);
  rmSync(current, { recursive: true, force: true });
  renameSync(next, current);
  return image.manifest.layers.length;
}
