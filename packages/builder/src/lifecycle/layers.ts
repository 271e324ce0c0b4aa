import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'smol-toml';
import { BuilderError } from '../errors.js';

/** A layer a buildpack left in its layers folder, with its `<layer>.toml`. */
export interface LayerInfo {
  name: string;
  dir: string;
  launch: boolean;
  build: boolean;
  cache: boolean;
  metadata: Record<string, unknown>;
}

/** A launch process from `launch.toml` (Buildpack API 0.9 and later: command is an array). */
export interface LaunchProcess {
  type: string;
  command: string[];
  args: string[];
  default: boolean;
  workingDir?: string;
  /** The buildpack that declared it. */
  buildpackId: string;
}

/** Files of a buildpack's layers folder that are not layers. */
const NOT_LAYERS = new Set(['launch', 'build', 'store']);
const LAYER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const PROCESS_TYPE = /^[A-Za-z0-9_.-]+$/;

function invalid(id: string, file: string, why: string): BuilderError {
  return new BuilderError('SPROUT_ERR_BUILDER_BUILDPACK_OUTPUT_INVALID', `${id}: ${file} ${why}`, {
    field: 'buildpack',
  });
}

function readToml(id: string, file: string): Record<string, unknown> {
  try {
    return parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw invalid(id, file.split('/').pop()!, `is not valid TOML (${(err as Error).message.split('\n')[0]})`);
  }
}

const table = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/**
 * The layers in a buildpack's layers folder: every `<layer>.toml` with `[types]` and
 * `[metadata]`. A layer whose types are all false is kept out of the image, cache and later
 * buildpacks' environment, as the spec says.
 */
export function readLayers(id: string, bpLayersDir: string): LayerInfo[] {
  if (!existsSync(bpLayersDir)) return [];
  const out: LayerInfo[] = [];
  for (const f of readdirSync(bpLayersDir).sort()) {
    if (!f.endsWith('.toml') || f.includes('.sbom.')) continue;
    const name = f.slice(0, -'.toml'.length);
    if (NOT_LAYERS.has(name)) continue;
    if (!LAYER_NAME.test(name))
      throw invalid(id, f, 'names a layer with characters other than letters, digits, ".", "-", "_"');
    const doc = readToml(id, join(bpLayersDir, f));
    const types = table(doc.types);
    const dir = join(bpLayersDir, name);
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw invalid(id, name, 'is not a folder');
    out.push({
      name,
      dir,
      launch: types.launch === true,
      build: types.build === true,
      cache: types.cache === true,
      metadata: table(doc.metadata),
    });
  }
  return out;
}

/** Writes `<layer>.toml` as the lifecycle restores it: the metadata kept, every type false (API 0.6+). */
export function writeRestoredToml(
  bpLayersDir: string,
  name: string,
  metadata: Record<string, unknown>,
): void {
  writeFileSync(
    join(bpLayersDir, `${name}.toml`),
    stringify({ types: { launch: false, build: false, cache: false }, metadata }),
  );
}

const strings = (id: string, v: unknown, what: string): string[] => {
  if (v === undefined) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))
    throw invalid(id, 'launch.toml', `has ${what} that is not a string array`);
  return v as string[];
};

/** The processes of `launch.toml`, if the buildpack wrote one. */
export function readLaunchToml(id: string, bpLayersDir: string): LaunchProcess[] {
  const file = join(bpLayersDir, 'launch.toml');
  if (!existsSync(file)) return [];
  const doc = readToml(id, file);
  const list = doc.processes ?? [];
  if (!Array.isArray(list)) throw invalid(id, 'launch.toml', 'has processes that is not an array of tables');
  return list.map((raw) => {
    const p = table(raw);
    if (typeof p.type !== 'string' || !PROCESS_TYPE.test(p.type))
      throw invalid(
        id,
        'launch.toml',
        'has a process whose type is missing or not made of letters, digits, ".", "-", "_"',
      );
    const command = strings(id, p.command, 'a command');
    if (command.length === 0 || command[0] === '')
      throw invalid(id, 'launch.toml', `has process ${p.type} without a command`);
    return {
      type: p.type,
      command,
      args: strings(id, p.args, 'args'),
      default: p.default === true,
      ...(typeof p['working-dir'] === 'string' ? { workingDir: p['working-dir'] } : {}),
      buildpackId: id,
    };
  });
}

/** Names of `[[unmet]]` in `build.toml`: plan entries the buildpack left for a later provider. */
export function readUnmet(id: string, bpLayersDir: string): string[] {
  const file = join(bpLayersDir, 'build.toml');
  if (!existsSync(file)) return [];
  const unmet = readToml(id, file).unmet ?? [];
  if (!Array.isArray(unmet)) throw invalid(id, 'build.toml', 'has unmet that is not an array of tables');
  return unmet.map((u) => table(u).name).filter((n): n is string => typeof n === 'string');
}

/** Folder name of a buildpack's layers: its id with `/` replaced by `_`, as the spec has it. */
export const layersDirName = (id: string): string => id.replace(/\//g, '_');
