import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { nodeBuildpack, type NodeBuildpackOptions } from '../buildpacks/node/index.js';
import { pullCacheImage, pushCacheImage } from '../cache/cache-image.js';
import { LayerCache } from '../cache/layer-cache.js';
import { SharedStore } from '../cache/shared-store.js';
import { BuilderError } from '../errors.js';
import type { Buildpack } from '../lifecycle/buildpack.js';
import type { Logs } from '../lifecycle/exec.js';
import type { ProjectSource } from '../lifecycle/export.js';
import { externalBuildpack } from '../lifecycle/external.js';
import { runLifecycle, type LifecycleResult } from '../lifecycle/lifecycle.js';
import { OciLayout, writeDockerArchive, type OciImage } from '../oci/index.js';
import { parseReference } from '../registry/reference.js';
import type { TransferOptions } from '../registry/transfer.js';
import { copySource, fetchGitSource, parseSource } from './source.js';
import { hashOf } from '../buildpacks/node/layer-files.js';

/** Where the image goes besides the builder's own store. */
export type BuildOutput = { type: 'oci-layout'; dir: string } | { type: 'docker-archive'; file: string };

/** The run image, placed into the layout given: the builder's machine-level store, from which the build links it. */
export type RunImageProvider = (
  layout: OciLayout,
) => Promise<{ image: OciImage; ref: string; uid?: number; gid?: number }>;

export interface BuildImageOptions {
  /** A folder, or `git-url[#ref][:subdir]`. */
  source: string;
  /** Relative folders are resolved against it (default: the process's). */
  cwd?: string;
  /** The image name (`registry/app:tag`); its tag names the image in the layout. */
  tag: string;
  /**
   * Data folder: the builder keeps its image store, caches and scratch space under `<dataDir>/builder`,
   * and in `<dataDir>/builder/shared` what every image shares (the run image, layer blobs).
   */
  dataDir: string;
  output?: BuildOutput;
  /** Platform environment for the buildpacks (`--env K=V`, the function's `spec.build.env`). */
  env?: Record<string, string>;
  /** Buildpack folders run instead of the built-in Node.js buildpack, as one group in this order. */
  buildpacks?: string[];
  /** The image's creation time: the CNB constant 1980-01-01T00:00:01Z unless given (`now`). */
  created?: Date;
  /** False: no layer cache (a cold build each time). */
  cache?: boolean;
  /**
   * A registry image the cache is kept in as well (`--cache-image`): pulled when the local cache
   * is empty (a fresh CI runner), pushed after the build.
   */
  cacheImage?: { ref: string; transfer?: TransferOptions };
  runImage?: RunImageProvider;
  node?: NodeBuildpackOptions;
  logs: Logs;
  signal?: AbortSignal;
}

export interface BuildImageResult extends LifecycleResult {
  layout: OciLayout;
  /** The name the image has in the layout's index.json. */
  refName: string;
  project: ProjectSource;
}

/** The folder under `<dataDir>/builder/cache` of an image name (repository, not tag: tags share a cache). */
export function cacheDirOf(dataDir: string, tag: string): string {
  const ref = parseReference(tag);
  const repo = `${ref.registry}/${ref.repository}`;
  return join(
    dataDir,
    'builder',
    'cache',
    `${ref.repository.replace(/[^a-z0-9._-]+/g, '_').slice(0, 80)}-${hashOf(repo).slice(0, 12)}`,
  );
}

/** Takes `<workDir>.lock` (this process's pid); a lock of a process that is gone is taken over. */
function lockWorkDir(workDir: string): () => void {
  const file = `${workDir}.lock`;
  mkdirSync(dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new BuilderError(
          'SPROUT_ERR_BUILDER_OPTION_INVALID',
          `another build of this image is running (process ${pid}); wait for it or build another tag`,
          { field: 'tag' },
        );
      rmSync(file, { force: true });
    }
  }
  throw new BuilderError(
    'SPROUT_ERR_BUILDER_OPTION_INVALID',
    `could not lock ${file}; remove it if no build runs`,
    { field: 'tag' },
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Source to image: fetches the source (a folder copied, or a git repository cloned with the `git`
 * command), runs the lifecycle with the built-in Node.js buildpack or the given ones, writes the
 * image into the output OCI layout (or the builder's store) and, for `docker-archive`, the archive.
 * Scratch space is removed whatever happens.
 */
export async function buildImage(o: BuildImageOptions): Promise<BuildImageResult> {
  const ref = parseReference(o.tag);
  const refName = ref.tag ?? 'latest';
  const dataDir = resolve(o.cwd ?? process.cwd(), o.dataDir);
  const builderDir = join(dataDir, 'builder');
  // One scratch folder per image name, at the same path each time: what buildpacks write of their
  // paths then stays the same from build to build. A lock keeps two builds of one image apart.
  const workDir = join(builderDir, 'work', basename(cacheDirOf(dataDir, o.tag)));
  const unlock = lockWorkDir(workDir);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  let shared: SharedStore | undefined;
  try {
    const spec = parseSource(o.source);
    let srcDir: string;
    let project: ProjectSource;
    if (spec.kind === 'git') {
      o.logs.line(
        `===> FETCHING ${spec.url}${spec.ref ? `#${spec.ref}` : ''}${spec.subdir ? `:${spec.subdir}` : ''}`,
      );
      const fetched = await fetchGitSource(spec, join(workDir, 'git'), o.signal);
      srcDir = fetched.dir;
      project = fetched.project;
    } else {
      srcDir = resolve(o.cwd ?? process.cwd(), spec.dir);
      project = { type: 'local' };
    }
    const appDir = join(workDir, 'workspace');
    try {
      copySource(srcDir, appDir, [dataDir]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new BuilderError(
          'SPROUT_ERR_BUILDER_SOURCE_INVALID',
          `${o.source} is not a folder; give the app folder or a git URL`,
          { field: 'source' },
        );
      throw err;
    }
    const order: Buildpack[][] = [
      o.buildpacks?.length
        ? o.buildpacks.map((d) => externalBuildpack(resolve(o.cwd ?? process.cwd(), d)))
        : [nodeBuildpack(o.node)],
    ];
    const layout = await OciLayout.open(
      o.output?.type === 'oci-layout'
        ? resolve(o.cwd ?? process.cwd(), o.output.dir)
        : join(builderDir, 'images'),
    );
    // The run image is made (or pulled) once into the machine-level store and linked into the
    // layout; with the cache on, launch layer blobs are shared through that store too.
    shared = await SharedStore.open(join(builderDir, 'shared'));
    const run = o.runImage ? await o.runImage(shared.layout) : undefined;
    if (run) await layout.linkImage(shared.layout, run.image);
    const cache = o.cache === false ? undefined : new LayerCache(cacheDirOf(dataDir, o.tag));
    const store = o.cacheImage && cache ? await OciLayout.open(join(builderDir, 'images')) : undefined;
    if (o.cacheImage && cache && store) {
      const n = await pullCacheImage(cache, o.cacheImage.ref, store, o.cacheImage.transfer ?? {});
      o.logs.line(
        n ? `cache image ${o.cacheImage.ref}: ${n} layers` : `cache image ${o.cacheImage.ref}: not used`,
      );
    }
    const result = await runLifecycle({
      appDir,
      workDir,
      order,
      ...(o.env ? { env: o.env } : {}),
      ...(cache ? { cache, shared } : {}),
      layout,
      ...(run ? { runImage: run.image, runImageRef: run.ref } : {}),
      uid: run?.uid ?? 1000,
      gid: run?.gid ?? 1000,
      ...(o.created ? { created: o.created } : {}),
      project,
      logs: o.logs,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    await layout.tag(result.image, refName);
    if (o.cacheImage && cache && store) {
      const n = await pushCacheImage(cache, o.cacheImage.ref, store, o.cacheImage.transfer ?? {});
      o.logs.line(`cache image ${o.cacheImage.ref}: pushed ${n} layers`);
    }
    if (o.output?.type === 'docker-archive') {
      await writeDockerArchive(layout, result.image, resolve(o.cwd ?? process.cwd(), o.output.file), [o.tag]);
      o.logs.line(`wrote docker archive ${o.output.file}`);
    }
    return { ...result, layout, refName, project };
  } finally {
    // What a failed build put in the store is kept too (valid blobs, by fingerprint).
    await shared?.save().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
    unlock();
  }
}
