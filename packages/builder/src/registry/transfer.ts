import { stat } from 'node:fs/promises';
import { BuilderError } from '../errors.js';
import { pickPlatform, type OciLayout } from '../oci/layout.js';
import { parseIndex, parseManifest } from '../oci/parse.js';
import { MEDIA_TYPES, type Digest, type OciImage } from '../oci/types.js';
import { RegistryClient, type RegistryClientOptions } from './client.js';
import { credentialsFor } from './credentials.js';
import { parseReference, type ImageReference } from './reference.js';
import { eachLimit } from '../each-limit.js';

export interface TransferOptions extends RegistryClientOptions {
  /** Repositories of the same registry to mount missing blobs from before uploading them. */
  mountFrom?: string[];
  /** Called once per blob with what was done with it. */
  onBlob?: (digest: Digest, action: 'exists' | 'mounted' | 'uploaded' | 'downloaded' | 'cached') => void;
  /** Blobs moved at the same time (default 4). */
  concurrency?: number;
  /** Pull: false to fetch only manifest and config, not the layers (a rebase in place needs no more). */
  layers?: boolean;
  /** Environment for `DOCKER_CONFIG` (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

export interface PushResult {
  reference: ImageReference;
  digest: Digest;
  uploaded: number;
  mounted: number;
  existing: number;
}

async function clientFor(ref: ImageReference, options: TransferOptions): Promise<RegistryClient> {
  const credentials = options.credentials ?? (await credentialsFor(ref.registry, options.env));
  return new RegistryClient(ref.registry, { ...options, ...(credentials ? { credentials } : {}) });
}

/** One blob to `repo`: nothing when it is there, else mounted from one of `mountFrom`, else uploaded. */
async function pushBlob(
  client: RegistryClient,
  layout: OciLayout,
  repo: string,
  digest: Digest,
  mountFrom: string[],
): Promise<'exists' | 'mounted' | 'uploaded'> {
  if (await client.hasBlob(repo, digest)) return 'exists';
  for (const from of mountFrom) if (await client.mountBlob(repo, digest, from)) return 'mounted';
  const file = layout.blobPath(digest);
  const size = (await stat(file).catch(() => undefined))?.size;
  if (size === undefined)
    throw new BuilderError(
      'SPROUT_ERR_BUILDER_BLOB_MISSING',
      `blob ${digest} is not in ${layout.dir}; rebuild the image`,
    );
  await client.uploadBlob(repo, digest, size, file);
  return 'uploaded';
}

/**
 * Pushes `image` from `layout` to `reference` (`host/repo:tag`): blobs the repository lacks are
 * mounted from `mountFrom` or uploaded (chunked when large), then the manifest is PUT byte for
 * byte, so the registry's digest is the layout's. Credentials: `options.credentials`, else the
 * Docker-style auth file.
 *
 * @example
 * await pushImage(layout, image, '127.0.0.1:5000/app:1', { plainHttp: true });
 */
export async function pushImage(
  layout: OciLayout,
  image: OciImage,
  reference: string,
  options: TransferOptions = {},
): Promise<PushResult> {
  const ref = parseReference(reference);
  const client = await clientFor(ref, options);
  const counts = { uploaded: 0, mounted: 0, existing: 0 };
  try {
    const blobs = [
      ...new Map([...image.manifest.layers, image.manifest.config].map((d) => [d.digest, d])).values(),
    ];
    await eachLimit(blobs, options.concurrency ?? 4, async (blob) => {
      const action = await pushBlob(client, layout, ref.repository, blob.digest, options.mountFrom ?? []);
      counts[action === 'exists' ? 'existing' : action]++;
      options.onBlob?.(blob.digest, action);
    });
    const bytes = await layout.readSmallBlob(image.descriptor.digest);
    const digest = await client.putManifest(
      ref.repository,
      ref.tag ?? image.descriptor.digest,
      bytes,
      image.manifest.mediaType,
    );
    return { reference: ref, digest, ...counts };
  } finally {
    client.close();
  }
}

/**
 * Pulls `reference` into `layout` (an index is resolved to linux on this architecture) and returns
 * the image; blobs the layout holds already are not fetched again, each fetched one is verified.
 *
 * @example
 * const runImage = await pullImage('registry.example.com/base/run:1', layout);
 */
export async function pullImage(
  reference: string,
  layout: OciLayout,
  options: TransferOptions = {},
): Promise<OciImage> {
  const ref = parseReference(reference);
  const client = await clientFor(ref, options);
  try {
    let fetched = await client.getManifest(ref.repository, ref.digest ?? ref.tag ?? 'latest');
    if (fetched.mediaType === MEDIA_TYPES.index || fetched.mediaType === MEDIA_TYPES.dockerManifestList) {
      const chosen = pickPlatform(parseIndex(fetched.bytes, `index of ${reference}`).manifests);
      fetched = await client.getManifest(ref.repository, chosen.digest);
    }
    const manifest = parseManifest(fetched.bytes, `manifest of ${reference}`);
    const wanted = options.layers === false ? [manifest.config] : [manifest.config, ...manifest.layers];
    const unique = [...new Map(wanted.map((d) => [d.digest, d])).values()];
    await eachLimit(unique, options.concurrency ?? 4, async (blob) => {
      if (await layout.has(blob.digest)) return options.onBlob?.(blob.digest, 'cached');
      const writer = await layout.newBlob();
      try {
        await client.fetchBlob(ref.repository, blob.digest, writer);
      } catch (err) {
        await writer.abort();
        throw err;
      }
      options.onBlob?.(blob.digest, 'downloaded');
    });
    const descriptor = await layout.putBytes(fetched.bytes, manifest.mediaType);
    return await layout.imageAt(descriptor);
  } finally {
    client.close();
  }
}
