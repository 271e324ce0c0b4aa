import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { BuilderError } from '../../errors.js';

/** The Node.js version an app asks for, and where it asked. */
export interface NodeVersionRequest {
  range: string;
  source: string;
}

/** `.nvmrc` aliases that any Node.js satisfies (nvm's names for "the latest"). */
const ANY = /^(node|stable|latest|current|lts\/.*|\*)$/i;

/**
 * The version constraint, in the order Paketo's Node.js buildpack reads them: `BP_NODE_VERSION`,
 * package.json `engines.node`, `.nvmrc`, `.node-version`.
 */
export function requestedNodeVersion(
  appDir: string,
  env: Record<string, string>,
): NodeVersionRequest | undefined {
  if (env.BP_NODE_VERSION) return { range: env.BP_NODE_VERSION.trim(), source: 'BP_NODE_VERSION' };
  const pkgFile = join(appDir, 'package.json');
  if (existsSync(pkgFile)) {
    const engines = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { engines?: { node?: unknown } }).engines;
    if (typeof engines?.node === 'string' && engines.node.trim())
      return { range: engines.node.trim(), source: 'package.json engines.node' };
  }
  for (const f of ['.nvmrc', '.node-version']) {
    const file = join(appDir, f);
    if (!existsSync(file)) continue;
    const line = readFileSync(file, 'utf8').split('\n')[0]!.trim();
    if (line) return { range: line, source: f };
  }
  return undefined;
}

/**
 * Checks that `actual` (the Node.js the image runs: this machine's) satisfies the request; throws
 * `SPROUT_ERR_BUILDER_NODE_VERSION` naming both when it does not.
 */
export function checkNodeVersion(req: NodeVersionRequest | undefined, actual: string): void {
  if (!req || ANY.test(req.range)) return;
  const range = req.range.replace(/^v(?=\d)/, '');
  if (semver.validRange(range) === null)
    throw new BuilderError(
      'SPROUT_ERR_BUILDER_NODE_VERSION',
      `${req.source} asks for Node.js "${req.range}", which is not a semver version or range; write e.g. "20", "^20.11" or ">=18"`,
      { field: req.source },
    );
  if (!semver.satisfies(actual, range, { includePrerelease: true }))
    throw new BuilderError(
      'SPROUT_ERR_BUILDER_NODE_VERSION',
      `${req.source} asks for Node.js "${req.range}" but the Node.js this builder puts in the image is ${actual}; widen the constraint or build on a machine with a matching Node.js`,
      { field: req.source },
    );
}
