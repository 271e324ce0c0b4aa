import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { once } from 'node:events';
import { digestHex } from './digest.js';
import { NORMALIZED_TIME } from './layer.js';
import { REF_NAME, type OciLayout } from './layout.js';
import { encodeHeader, END_OF_ARCHIVE, padding } from './tar-header.js';
import { MEDIA_TYPES, type Digest, type OciImage } from './types.js';

/**
 * Writes `image` as the tar `docker save` makes since Docker 25 (which `docker load`, `podman load`
 * and `skopeo copy docker-archive:` read): `manifest.json` naming the config and layer blobs, and
 * the same blobs as an OCI layout (`oci-layout`, `index.json`, `blobs/sha256/`). Layers stay gzip
 * compressed; blobs are streamed from the layout.
 *
 * @example
 * await writeDockerArchive(layout, image, 'app.tar', ['example.com/app:latest']);
 */
export async function writeDockerArchive(
  layout: OciLayout,
  image: OciImage,
  file: string,
  repoTags: string[],
): Promise<void> {
  const out = createWriteStream(file);
  const mtime = Math.floor(NORMALIZED_TIME.getTime() / 1000);
  const write = async (bytes: Uint8Array): Promise<void> => {
    if (!out.write(bytes)) await once(out, 'drain');
  };
  const small = async (name: string, text: string): Promise<void> => {
    const bytes = Buffer.from(text);
    await write(encodeHeader({ name, type: 'file', mode: 0o644, uid: 0, gid: 0, size: bytes.length, mtime }));
    await write(bytes);
    await write(padding(bytes.length));
  };
  const blob = async (digest: Digest): Promise<void> => {
    const { size } = await stat(layout.blobPath(digest));
    await write(
      encodeHeader({
        name: `blobs/sha256/${digestHex(digest)}`,
        type: 'file',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size,
        mtime,
      }),
    );
    for await (const chunk of await layout.openBlob(digest)) await write(chunk as Buffer);
    await write(padding(size));
  };
  const errored = new Promise<never>((_, reject) => out.once('error', reject));
  const work = (async () => {
    const manifest = [
      {
        Config: `blobs/sha256/${digestHex(image.manifest.config.digest)}`,
        RepoTags: repoTags,
        Layers: image.manifest.layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`),
      },
    ];
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.index,
      manifests: [
        {
          ...image.descriptor,
          ...(repoTags[0]
            ? { annotations: { [REF_NAME]: repoTags[0], 'io.containerd.image.name': repoTags[0] } }
            : {}),
        },
      ],
    };
    for (const dir of ['blobs', 'blobs/sha256'])
      await write(
        encodeHeader({ name: dir, type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime }),
      );
    const seen = new Set<string>();
    for (const d of [
      image.descriptor.digest,
      image.manifest.config.digest,
      ...image.manifest.layers.map((l) => l.digest),
    ]) {
      if (seen.has(d)) continue;
      seen.add(d);
      await blob(d);
    }
    await small('index.json', JSON.stringify(index));
    await small('manifest.json', JSON.stringify(manifest));
    await small('oci-layout', '{"imageLayoutVersion":"1.0.0"}');
    await write(END_OF_ARCHIVE);
    out.end();
    await once(out, 'finish');
  })();
  try {
    await Promise.race([work, errored]);
  } finally {
    out.destroy();
  }
}
