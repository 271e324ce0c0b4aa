import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'smol-toml';
import {
  NORMALIZED_TIME,
  writeImage,
  writeLayer,
  type AddedLayer,
  type LayerDescriptor,
  type LayerSource,
  type OciImage,
  type OciLayout,
} from '../oci/index.js';
import type { BuildOutcome, BuiltBuildpack } from './build.js';
import { applyEnv, layerEnv } from './env.js';
import { eachLimit } from '../each-limit.js';
import { treeFingerprint } from './fingerprint.js';
import { launcherFiles } from './launcher.js';
import { layersDirName, type LaunchProcess } from './layers.js';

/** Where the app and the layers are inside the image (the spec's defaults). */
export const IMAGE_APP_DIR = '/workspace';
export const IMAGE_LAYERS_DIR = '/layers';

/** Where the source came from, for `io.buildpacks.project.metadata`. */
export interface ProjectSource {
  type: 'git' | 'local';
  version?: Record<string, string>;
  metadata?: Record<string, string>;
}

export interface ExportInput {
  layout: OciLayout;
  /** The run image (its blobs in `layout`); none builds on an empty base. */
  runImage?: OciImage;
  /** Reference the run image was taken from, for the lifecycle metadata. */
  runImageRef?: string;
  appDir: string;
  layersRoot: string;
  outcome: BuildOutcome;
  /** Owner of the app and layer files, and the user the image runs as. */
  uid: number;
  gid: number;
  /** Config `created` and history times (default 1980-01-01T00:00:01Z). */
  created?: Date;
  project?: ProjectSource;
  /** Layer blobs known by the fingerprint of their folder: an unchanged folder is not written again. */
  reuse?: LayerReuse;
  /** The machine-level store, asked after `reuse`; new launch layer blobs are kept in it too. */
  shared?: SharedLayers;
}

/** Remembers which layer blob a folder gave (see `treeFingerprint`). */
export interface LayerReuse {
  get(fingerprint: string): LayerDescriptor | undefined;
  set(fingerprint: string, layer: LayerDescriptor): void;
}

interface ExportedLayer {
  buildpack: string;
  name: string;
  layer: LayerDescriptor;
  /** True when the blob of an earlier build was reused (the folder had not changed). */
  reused: boolean;
}

export interface Exported {
  image: OciImage;
  app: LayerDescriptor;
  config: LayerDescriptor;
  layers: ExportedLayer[];
  sbom?: LayerDescriptor;
}

/** A store of layer blobs shared by images (see `SharedStore`). */
export interface SharedLayers extends LayerReuse {
  /** Puts the blob into `layout`; false when the store no longer has it. */
  provide(layout: OciLayout, layer: LayerDescriptor): Promise<boolean>;
  /** Keeps a blob of `layout` under `fingerprint`. */
  keep(layout: OciLayout, fingerprint: string, layer: LayerDescriptor): Promise<void>;
}

/** Layers written at once: gzip runs on libuv's threads, so two or three keep both cores busy. */
const LAYER_CONCURRENCY = 3;

/** A path of this machine as the image sees it: the layers and app folders moved to their image places. */
function imagePathOf(input: ExportInput): (text: string) => string {
  const pairs: [string, string][] = [
    [input.layersRoot, IMAGE_LAYERS_DIR],
    [input.appDir, IMAGE_APP_DIR],
  ];
  return (text) => pairs.reduce((t, [from, to]) => t.split(from).join(to), text);
}

/** The image environment: the run image's, then each launch layer's (search paths, env/, env.launch/). */
function launchEnv(input: ExportInput, process?: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of input.runImage?.config.config?.Env ?? []) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  env.PATH ??= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  const mapPath = imagePathOf(input);
  for (const b of input.outcome.buildpacks) {
    for (const l of b.layers) {
      if (!l.launch || !existsSync(l.dir)) continue;
      const shownAs = `${IMAGE_LAYERS_DIR}/${layersDirName(b.buildpack.info.id)}/${l.name}`;
      const changes = layerEnv(l.dir, 'launch', shownAs, process).map((c) => ({
        ...c,
        value: mapPath(c.value),
      }));
      applyEnv(env, changes);
    }
  }
  return {
    ...env,
    CNB_APP_DIR: IMAGE_APP_DIR,
    CNB_LAYERS_DIR: IMAGE_LAYERS_DIR,
    ...(process ? { CNB_PROCESS_TYPE: process } : {}),
  };
}

function processJson(p: LaunchProcess, isDefault: boolean) {
  return {
    type: p.type,
    command: p.command,
    args: p.args,
    direct: true,
    default: isDefault,
    buildpackID: p.buildpackId,
    ...(p.workingDir ? { 'working-dir': p.workingDir } : {}),
  };
}

/**
 * The export phase: one image layer per launch layer (in group and name order), an SBOM layer,
 * the app folder at /workspace, a config layer (/cnb/config/metadata.toml with the processes),
 * on top of the run image. The default process is the Entrypoint (there is no launcher binary:
 * its environment is computed here into the config); the config layer also holds a small Node.js
 * launcher that runs any process by type (`/cnb/process/<type>`, see launcher.ts). Entries are sorted with fixed owners and
 * times, so the same build gives the same digest.
 */
export async function exportImage(input: ExportInput): Promise<Exported> {
  const { layout, outcome } = input;
  const mtime = input.created ?? NORMALIZED_TIME;
  const owner = { uid: input.uid, gid: input.gid, mtime };
  const mapPath = imagePathOf(input);
  for (const b of outcome.buildpacks)
    for (const l of b.layers) if (l.launch) mapEnvFiles(l.dir, !l.build, mapPath);
  const added: AddedLayer[] = [];
  const launch = outcome.buildpacks.flatMap((b) =>
    b.layers
      .filter((l) => l.launch && existsSync(l.dir))
      .map((l) => ({ b, l, to: `${IMAGE_LAYERS_DIR}/${layersDirName(b.buildpack.info.id)}/${l.name}` })),
  );
  const sbomSources = sbomFiles(outcome.buildpacks);
  // A few layers at a time, the launch layers (the large ones) first; the image lists them in a
  // fixed order whatever finishes first.
  const written: { layer: LayerDescriptor; reused: boolean }[] = [];
  let sbom: LayerDescriptor | undefined;
  let app: LayerDescriptor | undefined;
  await eachLimit(
    [
      ...launch.map(({ l, to }, i) => async () => {
        written[i] = await reusableLayer(input, l.dir, to, owner);
      }),
      async () => {
        app = await writeLayer(layout, [{ from: input.appDir, to: IMAGE_APP_DIR }], owner);
      },
      async () => {
        if (sbomSources.length) sbom = await writeLayer(layout, sbomSources, owner);
      },
    ],
    LAYER_CONCURRENCY,
    (job) => job(),
  );
  const layers: ExportedLayer[] = launch.map(({ b, l }, i) => {
    const { layer, reused } = written[i]!;
    added.push({ layer, createdBy: `buildpack ${b.buildpack.info.id}: layer ${l.name}` });
    return { buildpack: b.buildpack.info.id, name: l.name, layer, reused };
  });
  if (sbom) added.push({ layer: sbom, createdBy: 'lifecycle: software bill of materials' });
  if (!app) throw new Error('unreachable: the app layer was not written');
  added.push({ layer: app, createdBy: 'lifecycle: application' });
  const def = outcome.processes.find((p) => p.type === outcome.defaultProcess);
  const processes = outcome.processes.map((p) => {
    const json = processJson(p, p.type === outcome.defaultProcess);
    return { ...json, command: json.command.map(mapPath), args: json.args.map(mapPath) };
  });
  const buildpacksMeta = outcome.buildpacks.map((b) => ({
    id: b.buildpack.info.id,
    version: b.buildpack.info.version,
    api: b.buildpack.info.api,
    ...(b.buildpack.info.homepage ? { homepage: b.buildpack.info.homepage } : {}),
  }));
  const imageEnv = launchEnv(input, def?.type);
  const launcher = launcherFiles(
    processes.map((p) => ({
      type: p.type,
      command: p.command,
      args: p.args,
      workingDir: p['working-dir'] ? mapPath(p['working-dir']) : IMAGE_APP_DIR,
      env: launchEnv(input, p.type),
    })),
    def?.type,
    imageEnv,
  );
  const config = await writeLayer(
    layout,
    [
      { to: '/cnb/config/metadata.toml', content: stringify({ buildpacks: buildpacksMeta, processes }) },
      ...launcher,
    ],
    { uid: 0, gid: 0, mtime },
  );
  added.push({ layer: config, createdBy: 'lifecycle: process configuration' });
  // the platform spec records the run image's top layer by its diffID (what `sprout rebase` looks for)
  const runTop = input.runImage?.config.rootfs.diff_ids.at(-1);
  const lifecycleMeta = {
    app: [{ sha: app.digest }],
    config: { sha: config.digest },
    buildpacks: outcome.buildpacks.map((b) => ({
      key: b.buildpack.info.id,
      version: b.buildpack.info.version,
      layers: Object.fromEntries(
        b.layers.map((l) => [
          l.name,
          {
            ...(layers.find((e) => e.buildpack === b.buildpack.info.id && e.name === l.name)
              ? {
                  sha: layers.find((e) => e.buildpack === b.buildpack.info.id && e.name === l.name)!.layer
                    .digest,
                }
              : {}),
            data: l.metadata,
            launch: l.launch,
            build: l.build,
            cache: l.cache,
          },
        ]),
      ),
    })),
    ...(input.runImage
      ? {
          runImage: {
            topLayer: runTop,
            reference: input.runImage.descriptor.digest,
            ...(input.runImageRef ? { image: input.runImageRef } : {}),
          },
        }
      : {}),
    ...(sbom ? { sbom: { sha: sbom.digest } } : {}),
  };
  const buildMeta = {
    processes,
    buildpacks: buildpacksMeta.map(({ id, version, homepage }) => ({
      id,
      version,
      ...(homepage ? { homepage } : {}),
    })),
    bom: [],
    launcher: { version: 'sprout', source: { git: { repository: 'sprout' } } },
  };
  const workingDir = def?.workingDir ? mapPath(def.workingDir) : IMAGE_APP_DIR;
  const image = await writeImage(layout, {
    ...(input.runImage ? { base: input.runImage } : {}),
    layers: added,
    created: mtime,
    config: {
      user: `${input.uid}:${input.gid}`,
      env: imageEnv,
      workingDir,
      ...(def ? { entrypoint: [...def.command, ...def.args].map(mapPath) } : {}),
      cmd: [],
      labels: {
        'io.buildpacks.lifecycle.metadata': JSON.stringify(lifecycleMeta),
        'io.buildpacks.build.metadata': JSON.stringify(buildMeta),
        'io.buildpacks.project.metadata': JSON.stringify(input.project ? { source: input.project } : {}),
      },
    },
  });
  return { image, app, config, layers, ...(sbom ? { sbom } : {}) };
}

/**
 * A layer from a folder, or the blob the same folder gave before: from this image's last build when
 * the layout still holds it, else from the machine-level store (linked into the layout).
 */
async function reusableLayer(
  input: ExportInput,
  dir: string,
  to: string,
  owner: { uid: number; gid: number; mtime: Date },
): Promise<{ layer: LayerDescriptor; reused: boolean }> {
  const { reuse, shared, layout } = input;
  const fp =
    reuse || shared
      ? treeFingerprint(dir, JSON.stringify([to, owner.uid, owner.gid, owner.mtime.getTime()]))
      : '';
  const known = reuse?.get(fp);
  if (known && (await layout.has(known.digest))) {
    reuse?.set(fp, known);
    if (shared && !shared.get(fp)) await shared.keep(layout, fp, known);
    return { layer: known, reused: true };
  }
  const common = shared?.get(fp);
  if (common && (await shared!.provide(layout, common))) {
    reuse?.set(fp, common);
    return { layer: common, reused: true };
  }
  const layer = await writeLayer(layout, [{ from: dir, to }], owner);
  reuse?.set(fp, layer);
  await shared?.keep(layout, fp, layer);
  return { layer, reused: false };
}

/**
 * Env files of a launch layer hold paths as the buildpack saw them (this machine's scratch folder);
 * they are rewritten to the image's /layers and /workspace, which is what a lifecycle running in a
 * container would have had, so the layer does not depend on where the build ran.
 */
function mapEnvFiles(layerDir: string, withEnv: boolean, mapPath: (t: string) => string): void {
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && st.size <= 64 * 1024) {
        const text = readFileSync(p, 'utf8');
        const mapped = mapPath(text);
        if (mapped !== text) writeFileSync(p, mapped);
      }
    }
  };
  // env/ of a layer also used at build stays as the buildpacks see it (a restored layer is used again).
  for (const env of withEnv ? ['env', 'env.launch'] : ['env.launch']) walk(join(layerDir, env));
}

/** The SBOM files buildpacks wrote (`<layer>.sbom.cdx.json`, `launch.sbom.cdx.json`), at the spec's image paths. */
function sbomFiles(built: BuiltBuildpack[]): LayerSource[] {
  const out: LayerSource[] = [];
  for (const b of built) {
    const dirName = layersDirName(b.buildpack.info.id);
    for (const fmt of ['cdx.json', 'spdx.json', 'syft.json']) {
      const launchFile = join(b.layersDir, `launch.sbom.${fmt}`);
      if (existsSync(launchFile))
        out.push({ from: launchFile, to: `${IMAGE_LAYERS_DIR}/sbom/launch/${dirName}/sbom.${fmt}` });
      for (const l of b.layers) {
        const f = join(b.layersDir, `${l.name}.sbom.${fmt}`);
        if (l.launch && existsSync(f))
          out.push({ from: f, to: `${IMAGE_LAYERS_DIR}/sbom/launch/${dirName}/${l.name}/sbom.${fmt}` });
      }
    }
  }
  return out;
}
