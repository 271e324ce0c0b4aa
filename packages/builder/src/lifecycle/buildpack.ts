import { constants, accessSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { BuilderError } from '../errors.js';
import type { Logs } from './exec.js';

/** `[buildpack]` of a buildpack.toml: what the lifecycle and the image labels name it by. */
export interface BuildpackInfo {
  id: string;
  version: string;
  /** Buildpack API the buildpack speaks (`0.10`). */
  api: string;
  name?: string;
  homepage?: string;
  /** `clear-env = true`: bin/detect and bin/build get only the platform/env files, not the platform's env. */
  clearEnv?: boolean;
}

/** What a buildpack's detect and build executables are given (paths on this machine). */
interface PhaseContext {
  appDir: string;
  platformDir: string;
  /** The environment the lifecycle computed for this buildpack. */
  env: Record<string, string>;
  logs: Logs;
  signal?: AbortSignal;
}

export interface DetectContext extends PhaseContext {
  /** Where the buildpack writes its build plan (`CNB_BUILD_PLAN_PATH`). */
  planPath: string;
}

export interface BuildContext extends PhaseContext {
  /** This buildpack's layers folder (`CNB_LAYERS_DIR`). */
  layersDir: string;
  /** The buildpack plan: the entries this buildpack is asked to provide (`CNB_BP_PLAN_PATH`). */
  planPath: string;
}

/**
 * One buildpack as the lifecycle drives it. An external buildpack (`externalBuildpack`) runs its
 * `bin/detect` and `bin/build`; a built-in one implements the same contract in-process: it reads
 * and writes the same files (build plan, `<layer>.toml`, `launch.toml`), so the lifecycle treats
 * both alike.
 */
export interface Buildpack {
  info: BuildpackInfo;
  /** True when the group may drop it if it fails detection. */
  optional?: boolean;
  /** What its detect looks for, named in the error when no group passes (`package.json, …`). */
  looksFor?: string;
  /** Pass (true) or fail (false); throws for an error (the spec's exit codes other than 0 and 100). */
  detect(ctx: DetectContext): Promise<boolean>;
  /** Throws when the build fails. */
  build(ctx: BuildContext): Promise<void>;
}

/** Buildpack APIs this lifecycle implements (the detect/build contract with CNB_* variables, 0.8 and later). */
const SUPPORTED_API = /^0\.(8|9|10|11|12)$/;

function invalid(dir: string, why: string): BuilderError {
  return new BuilderError(
    'SPROUT_ERR_BUILDER_BUILDPACK_INVALID',
    `buildpack ${dir}: ${why}; a buildpack folder holds buildpack.toml (api, [buildpack] id and version) and executable bin/detect and bin/build`,
    { field: 'buildpack' },
  );
}

/** Reads and checks `<dir>/buildpack.toml`. */
export function readBuildpackToml(dir: string): BuildpackInfo {
  const file = join(dir, 'buildpack.toml');
  if (!existsSync(file)) throw invalid(dir, 'no buildpack.toml');
  let doc: Record<string, unknown>;
  try {
    doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw invalid(dir, `buildpack.toml is not valid TOML (${(err as Error).message.split('\n')[0]})`);
  }
  const bp = doc.buildpack as Record<string, unknown> | undefined;
  const api = doc.api;
  if (typeof api !== 'string' || !SUPPORTED_API.test(api))
    throw invalid(dir, `api ${JSON.stringify(api)} is not a Buildpack API this lifecycle runs (0.8 to 0.12)`);
  if (
    !bp ||
    typeof bp.id !== 'string' ||
    !/^[a-zA-Z0-9._/-]+$/.test(bp.id) ||
    bp.id === 'app' ||
    bp.id === 'config'
  )
    throw invalid(dir, '[buildpack] id is missing or not made of letters, digits, ".", "-", "_" and "/"');
  if (typeof bp.version !== 'string' || bp.version === '')
    throw invalid(dir, '[buildpack] version is missing');
  if (doc.order !== undefined)
    throw invalid(dir, 'is a composite buildpack ([[order]]); give its members instead');
  return {
    id: bp.id,
    version: bp.version,
    api,
    ...(typeof bp.name === 'string' ? { name: bp.name } : {}),
    ...(typeof bp.homepage === 'string' ? { homepage: bp.homepage } : {}),
    ...(bp['clear-env'] === true ? { clearEnv: true } : {}),
  };
}

/** Checks that `bin/<name>` exists and is executable. */
export function executable(dir: string, name: string): string {
  const file = join(dir, 'bin', name);
  try {
    accessSync(file, constants.X_OK);
  } catch {
    throw invalid(dir, `bin/${name} is missing or not executable`);
  }
  return file;
}
