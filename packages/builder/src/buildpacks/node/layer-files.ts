import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { parse, stringify } from 'smol-toml';

/** Writes `<layer>.toml` with its types and metadata (what the lifecycle reads after build). */
export function writeLayerToml(
  layersDir: string,
  name: string,
  types: { launch?: boolean; build?: boolean; cache?: boolean },
  metadata: Record<string, unknown>,
): void {
  writeFileSync(
    join(layersDir, `${name}.toml`),
    stringify({ types: { launch: !!types.launch, build: !!types.build, cache: !!types.cache }, metadata }),
  );
}

/** The metadata of `<layer>.toml` as the lifecycle restored it (empty when there is none). */
export function restoredMetadata(layersDir: string, name: string): Record<string, unknown> {
  const file = join(layersDir, `${name}.toml`);
  if (!existsSync(file)) return {};
  try {
    const md = (parse(readFileSync(file, 'utf8')) as { metadata?: unknown }).metadata;
    return typeof md === 'object' && md !== null ? (md as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Writes one file of a layer's env folder (`env`, `env.launch`, `env.build`), or removes it when
 * `value` is undefined. An unchanged file is left alone, so a reused layer stays byte- and
 * time-identical and its blob is reused.
 */
export function writeEnvFile(
  layerDir: string,
  folder: string,
  file: string,
  value: string | undefined,
): void {
  const path = join(layerDir, folder, file);
  if (value === undefined) return rmSync(path, { force: true });
  if (existsSync(path) && readFileSync(path, 'utf8') === value) return;
  mkdirSync(join(layerDir, folder), { recursive: true });
  writeFileSync(path, value);
}

/** sha256 (hex) of the given texts, each length-prefixed so that their borders count. */
export function hashOf(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${Buffer.byteLength(p)}:`).update(p);
  return h.digest('hex');
}

/** The executable `name` on `path` (colon-separated), if any. */
export function onPath(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* not here */
    }
  }
  return undefined;
}
