import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LayerCache } from '../cache/layer-cache.js';
import type { OciImage, OciLayout } from '../oci/index.js';
import type { Buildpack } from './buildpack.js';
import { build, type BuildOutcome } from './build.js';
import { detect, type PhaseInputs } from './detect.js';
import type { Logs } from './exec.js';
import { exportImage, type Exported, type ProjectSource, type SharedLayers } from './export.js';

export interface LifecycleOptions {
  /** The app folder (a copy the build may change: it becomes the image's /workspace). */
  appDir: string;
  /** Scratch folder of this build: layers, platform and plans go under it. */
  workDir: string;
  /** Groups of buildpacks tried in turn by detect. */
  order: Buildpack[][];
  /** The platform's environment for buildpacks (`--env`), also written to `<platform>/env/`. */
  env?: Record<string, string>;
  /** The environment the buildpacks start from (default: a few of this process's: PATH, HOME…). */
  baseEnv?: Record<string, string>;
  cache?: LayerCache;
  /** Layer blobs shared by every image built with this data dir (see `SharedStore`). */
  shared?: SharedLayers;
  layout: OciLayout;
  runImage?: OciImage;
  runImageRef?: string;
  uid: number;
  gid: number;
  created?: Date;
  project?: ProjectSource;
  logs: Logs;
  signal?: AbortSignal;
}

export interface LifecycleResult extends Exported {
  outcome: BuildOutcome;
  /** Milliseconds each phase took. */
  timings: Record<'analyze' | 'detect' | 'restore' | 'build' | 'export', number>;
  /** Cache layers restored (`<buildpack>/<layer>`). */
  restored: string[];
}

const HEADERS = {
  analyze: 'ANALYZING',
  detect: 'DETECTING',
  restore: 'RESTORING',
  build: 'BUILDING',
  export: 'EXPORTING',
};

/** Variables of this process handed to buildpacks by default; anything else would make builds differ by machine. */
const PASSED_ENV =
  /^(PATH|HOME|USER|LANG|LC_ALL|TMPDIR|TZ|SSL_CERT_FILE|SSL_CERT_DIR|NODE_EXTRA_CA_CERTS|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy|npm_config_[a-z_]+)$/;

/** The environment buildpacks start from when none is given: PATH, HOME, proxies, npm settings of this process. */
export function defaultBuildEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => PASSED_ENV.test(e[0]) && e[1] !== undefined),
  );
}

/**
 * The lifecycle, phase after phase as the Platform API names them, each announced with the
 * `===> PHASE` header and timed: analyze (what the cache holds), detect, restore (cached layers
 * back with their metadata), build, export (the image into the layout), then the cache saved.
 */
export async function runLifecycle(o: LifecycleOptions): Promise<LifecycleResult> {
  const timings = { analyze: 0, detect: 0, restore: 0, build: 0, export: 0 };
  const phase = async <T>(name: keyof typeof timings, run: () => Promise<T> | T): Promise<T> => {
    o.logs.line(`===> ${HEADERS[name]}`);
    const start = performance.now();
    const out = await run();
    timings[name] = Math.round(performance.now() - start);
    o.logs.line(`     ${name} took ${(timings[name] / 1000).toFixed(1)}s`);
    return out;
  };
  const layersRoot = join(o.workDir, 'layers');
  const platformDir = join(o.workDir, 'platform');
  mkdirSync(join(platformDir, 'env'), { recursive: true });
  mkdirSync(layersRoot, { recursive: true });
  const platformEnv = o.env ?? {};
  for (const [k, v] of Object.entries(platformEnv)) writeFileSync(join(platformDir, 'env', k), v);
  const inputs: PhaseInputs = {
    appDir: o.appDir,
    platformDir,
    workDir: o.workDir,
    baseEnv: { ...(o.baseEnv ?? defaultBuildEnv()), ...platformEnv },
    platformEnv,
    logs: o.logs,
    ...(o.signal ? { signal: o.signal } : {}),
  };
  await phase('analyze', () => {
    o.logs.line(o.cache ? `cache: ${o.cache.dir}` : 'no cache');
    if (o.runImage) o.logs.line(`run image: ${o.runImageRef ?? o.runImage.descriptor.digest}`);
  });
  const group = await phase('detect', () => detect(o.order, inputs));
  const restored = await phase('restore', () => {
    const layers =
      o.cache?.restore(
        group.buildpacks.map((b) => b.info.id),
        layersRoot,
      ) ?? [];
    for (const l of layers) o.logs.line(`restoring cached layer ${l.buildpack}:${l.name}`);
    return layers.map((l) => `${l.buildpack}/${l.name}`);
  });
  const outcome = await phase('build', () => build(group, layersRoot, inputs));
  const exported = await phase('export', async () => {
    const out = await exportImage({
      layout: o.layout,
      appDir: o.appDir,
      layersRoot,
      outcome,
      uid: o.uid,
      gid: o.gid,
      ...(o.runImage ? { runImage: o.runImage } : {}),
      ...(o.runImageRef ? { runImageRef: o.runImageRef } : {}),
      ...(o.created ? { created: o.created } : {}),
      ...(o.project ? { project: o.project } : {}),
      ...(o.cache ? { reuse: o.cache } : {}),
      ...(o.shared ? { shared: o.shared } : {}),
    });
    for (const l of out.layers)
      o.logs.line(`${l.reused ? 'reusing ' : ''}layer ${l.buildpack}:${l.name} ${l.layer.digest}`);
    o.logs.line(`app layer ${out.app.digest}`);
    if (o.cache) {
      const saved = o.cache.save(outcome.buildpacks);
      for (const l of saved) o.logs.line(`caching layer ${l.buildpack}:${l.name}`);
    }
    o.logs.line(`image ${out.image.descriptor.digest}`);
    return out;
  });
  return { ...exported, outcome, timings, restored };
}
