import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'smol-toml';
import type { Buildpack } from './buildpack.js';
import { buildpackEnv, type DetectedGroup, type PhaseInputs } from './detect.js';
import { applyEnv, layerEnv, type EnvChange } from './env.js';
import {
  layersDirName,
  readLaunchToml,
  readLayers,
  readUnmet,
  type LaunchProcess,
  type LayerInfo,
} from './layers.js';
import type { PlanEntry } from './plan.js';

/** What one buildpack built. */
export interface BuiltBuildpack {
  buildpack: Buildpack;
  /** Its layers folder. */
  layersDir: string;
  /** Layers with at least one type set, by name. */
  layers: LayerInfo[];
  processes: LaunchProcess[];
  /** The plan entries it was given. */
  plan: PlanEntry[];
}

export interface BuildOutcome {
  buildpacks: BuiltBuildpack[];
  /** The image's processes: a later buildpack's process replaces an earlier one of the same type. */
  processes: LaunchProcess[];
  /** The default process type, if any (`default = true`, else `web`, else the only one). */
  defaultProcess?: string;
}

/**
 * The build phase: each buildpack of the group in order, with its buildpack plan (less the entries
 * an earlier provider met), the platform's environment and every earlier buildpack's `build`
 * layers applied (search paths, `env/`, `env.build/`). Output is streamed by the buildpacks.
 */
export async function build(
  group: DetectedGroup,
  layersRoot: string,
  inputs: PhaseInputs,
): Promise<BuildOutcome> {
  const changes: EnvChange[] = [];
  const met = new Set<PlanEntry>();
  const built: BuiltBuildpack[] = [];
  for (const [i, bp] of group.buildpacks.entries()) {
    const layersDir = join(layersRoot, layersDirName(bp.info.id));
    mkdirSync(layersDir, { recursive: true });
    const plan = group.plans[i]!.filter((e) => !met.has(e));
    const planPath = join(inputs.workDir, 'plans', `${i}.toml`);
    mkdirSync(join(inputs.workDir, 'plans'), { recursive: true });
    writeFileSync(
      planPath,
      stringify({ entries: plan.map((e) => ({ name: e.name, metadata: e.metadata })) }),
    );
    inputs.logs.line(`${bp.info.name ?? bp.info.id} ${bp.info.version}`);
    await bp.build({
      appDir: inputs.appDir,
      platformDir: inputs.platformDir,
      env: applyEnv(buildpackEnv(bp, inputs), changes),
      layersDir,
      planPath,
      logs: inputs.logs,
      ...(inputs.signal ? { signal: inputs.signal } : {}),
    });
    const layers = readLayers(bp.info.id, layersDir).filter((l) => l.launch || l.build || l.cache);
    const unmet = new Set(readUnmet(bp.info.id, layersDir));
    for (const e of plan) if (!unmet.has(e.name)) met.add(e);
    for (const l of layers) if (l.build && existsSync(l.dir)) changes.push(...layerEnv(l.dir, 'build'));
    built.push({ buildpack: bp, layersDir, layers, processes: readLaunchToml(bp.info.id, layersDir), plan });
  }
  const byType = new Map<string, LaunchProcess>();
  let defaultProcess: string | undefined;
  for (const p of built.flatMap((b) => b.processes)) {
    byType.delete(p.type);
    byType.set(p.type, p);
    if (p.default) defaultProcess = p.type;
  }
  const processes = [...byType.values()];
  defaultProcess ??= byType.has('web') ? 'web' : processes.length === 1 ? processes[0]!.type : undefined;
  return { buildpacks: built, processes, ...(defaultProcess ? { defaultProcess } : {}) };
}
