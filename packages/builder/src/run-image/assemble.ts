import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { BuilderError } from '../errors.js';
import { writeImage } from '../oci/image.js';
import { writeLayer } from '../oci/layer.js';
import type { LayerSource } from '../oci/layer-entries.js';
import type { OciLayout } from '../oci/layout.js';
import type { OciImage } from '../oci/types.js';
import { sharedLibraries } from './closure.js';

/** A run image placed in a layout, with the user its processes run as. */
export interface RunImage {
  image: OciImage;
  /** What the image is called in CNB metadata (`runImage.image`). */
  ref: string;
  uid: number;
  gid: number;
}

export interface AssembleOptions {
  /** The Node.js binary to ship (default: the one running this process). */
  node?: string;
  /** Its version (default: this process's). */
  nodeVersion?: string;
  /** CA bundle copied to /etc/ssl/certs/ca-certificates.crt (default: the Debian one). */
  caBundle?: string;
  /** The non-root user (default cnb, 1000:1000). */
  user?: { name: string; uid: number; gid: number };
  /** The config's `created` (default the CNB constant). */
  created?: Date;
}

export const NODE_PATH_IN_IMAGE = '/usr/local/bin/node';

function etcFiles(user: { name: string; uid: number; gid: number }): LayerSource[] {
  const home = `/home/${user.name}`;
  return [
    {
      to: '/etc/passwd',
      content: `root:x:0:0:root:/root:/sbin/nologin\n${user.name}:x:${user.uid}:${user.gid}:${user.name}:${home}:/sbin/nologin\n`,
    },
    { to: '/etc/group', content: `root:x:0:\n${user.name}:x:${user.gid}:\n` },
    { to: '/etc/hosts', content: '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' },
    { to: '/etc/nsswitch.conf', content: 'passwd: files\ngroup: files\nhosts: files dns\n' },
    { to: '/tmp', directory: true, mode: 0o1777 },
    { to: '/root', directory: true, mode: 0o700 },
    { to: home, directory: true, mode: 0o750, uid: user.uid, gid: user.gid },
  ];
}

async function fingerprint(paths: string[], extra: string): Promise<string> {
  const h = createHash('sha256').update(extra);
  for (const p of paths) {
    const s = await stat(p);
    h.update(`\0${p}\0${s.size}\0${s.mtimeMs}`);
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * Assembles the default run image into `layout`: one layer with passwd/group (root and a non-root
 * user), hosts, nsswitch.conf, CA certificates, /tmp and the user's home; one with the Node.js
 * binary at /usr/local/bin/node and its shared-library closure (`ldd`) at the paths it loads them
 * from. Entries are normalised, so the same inputs give the same digest; an image made from the
 * same files (by path, size and mtime) is found in the layout and reused.
 *
 * @example
 * const run = await assembleRunImage(layout);
 * const app = await writeImage(layout, { base: run.image, layers, config: { user: `${run.uid}:${run.gid}` } });
 */
export async function assembleRunImage(layout: OciLayout, options: AssembleOptions = {}): Promise<RunImage> {
  const node = options.node ?? process.execPath;
  const version = options.nodeVersion ?? process.version;
  const caBundle = options.caBundle ?? '/etc/ssl/certs/ca-certificates.crt';
  const user = options.user ?? { name: 'cnb', uid: 1000, gid: 1000 };
  const ref = `sprout/run-node:${version.replace(/^v/, '')}`;
  for (const [what, path] of [
    ['Node.js binary', node],
    ['CA bundle', caBundle],
  ] as const) {
    if (!(await stat(path).catch(() => undefined))?.isFile())
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_RUN_IMAGE_FAILED',
        `the ${what} ${path} is not a readable file; install it (ca-certificates, nodejs) or pass --run-image`,
        {
          field: 'runImage',
        },
      );
  }
  const libs = await sharedLibraries(node);
  const tag = `sprout-run-${await fingerprint([node, caBundle, ...libs], JSON.stringify([version, user, options.created ?? null]))}`;
  const cached = await layout.image(tag).catch(() => undefined);
  if (cached) return { image: cached, ref, uid: user.uid, gid: user.gid };

  const base = await writeLayer(layout, [
    ...etcFiles(user),
    { from: caBundle, to: '/etc/ssl/certs/ca-certificates.crt', followSymlink: true },
  ]);
  const runtime = await writeLayer(layout, [
    { from: node, to: NODE_PATH_IN_IMAGE, followSymlink: true },
    ...libs.map((lib) => ({ from: lib, to: lib, followSymlink: true })),
  ]);
  const image = await writeImage(layout, {
    layers: [
      { layer: base, createdBy: 'sprout run image: users, hosts, CA certificates, /tmp' },
      { layer: runtime, createdBy: `sprout run image: node ${version} and its shared libraries` },
    ],
    config: {
      user: `${user.uid}:${user.gid}`,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt' },
      workingDir: '/',
      labels: {
        'org.opencontainers.image.title': 'Sprout Node.js run image',
        'io.sprout.run-image.node-version': version,
      },
    },
    ...(options.created ? { created: options.created } : {}),
  });
  await layout.tag(image, tag);
  return { image, ref, uid: user.uid, gid: user.gid };
}
