import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { BuilderError } from '../errors.js';
import type { Buildpack } from './buildpack.js';
import type { Logs } from './exec.js';
import { parseBuildPlan, resolveGroup, type DetectResult, type PlanEntry } from './plan.js';

/** What the detect and build phases share: the folders and the environment the platform gives. */
export interface PhaseInputs {
  appDir: string;
  platformDir: string;
  /** Scratch folder of this build (plans are written here). */
  workDir: string;
  /** The environment every buildpack starts from (the platform's `--env` already in it). */
  baseEnv: Record<string, string>;
  /** The platform's `--env` alone: what a `clear-env` buildpack gets. */
  platformEnv: Record<string, string>;
  logs: Logs;
  signal?: AbortSignal;
}

/** The group that passed detection, each member with its buildpack plan. */
export interface DetectedGroup {
  buildpacks: Buildpack[];
  plans: PlanEntry[][];
}

/** The environment of one buildpack: all of the platform's, or only its `--env` for a clear-env one. */
export function buildpackEnv(bp: Buildpack, inputs: PhaseInputs): Record<string, string> {
  if (!bp.info.clearEnv) return { ...inputs.baseEnv };
  return { PATH: inputs.baseEnv.PATH ?? '/usr/bin:/bin', ...inputs.platformEnv };
}

/**
 * The detect phase: each group of `order` in turn, every buildpack's detect (in group order),
 * then the build plan resolved; the first group that resolves wins. None: an error that lists
 * what each buildpack looked for.
 */
export async function detect(order: Buildpack[][], inputs: PhaseInputs): Promise<DetectedGroup> {
  const report: string[] = [];
  for (const [g, group] of order.entries()) {
    const results: DetectResult[] = [];
    for (const [i, bp] of group.entries()) {
      const dir = join(inputs.workDir, 'detect', String(g), String(i));
      mkdirSync(dir, { recursive: true });
      const planPath = join(dir, 'plan.toml');
      const passed = await bp.detect({
        appDir: inputs.appDir,
        platformDir: inputs.platformDir,
        env: buildpackEnv(bp, inputs),
        planPath,
        logs: inputs.logs,
        ...(inputs.signal ? { signal: inputs.signal } : {}),
      });
      const text = passed && existsSync(planPath) ? readFileSync(planPath, 'utf8') : '';
      results.push({
        id: bp.info.id,
        optional: bp.optional === true,
        passed,
        alternatives: passed ? parseBuildPlan(bp.info.id, text) : [],
      });
      inputs.logs.line(`${passed ? 'pass' : 'skip'}: ${bp.info.id}@${bp.info.version}`);
    }
    const resolved = resolveGroup(results);
    if (resolved) {
      return {
        buildpacks: resolved.members.map((i) => group[i]!),
        plans: resolved.plans,
      };
    }
    const why = results.map((r, i) =>
      r.passed
        ? `${r.id} passed but its build plan was not met`
        : `${r.id} failed${group[i]!.looksFor ? ` (looked for ${group[i]!.looksFor})` : ''}`,
    );
    report.push(why.join('; '));
  }
  throw new BuilderError(
    'SPROUT_ERR_BUILDER_DETECT_FAILED',
    `no buildpack group passed detection: ${report.join(' | ')}. Add what a buildpack needs to the source, or pass --buildpack DIR for another language`,
    { field: 'source' },
  );
}
