import { relative } from 'node:path';
import type { Logger } from '@sprout/observe';
import { PlatformError } from './errors.js';
import type { Platform } from './platform.js';

/**
 * Says at start what `sprout dev` serves: with nothing loaded it fails with
 * `SPROUT_ERR_PLATFORM_NOTHING_TO_SERVE` and each reason (the load errors, already logged one line
 * each); with some sources broken it names them in one line after the error lines.
 *
 * @example
 * reportLoaded(platform, logger, process.cwd()); // "serving 2 of 3 functions; broken: bad/function.yaml (…)"
 */
export function reportLoaded(platform: Platform, logger: Logger, cwd: string): void {
  const served = platform.names();
  const broken = platform.broken();
  const total = served.length + broken.length;
  const shown = (path: string) => relative(cwd, path) || '.';
  if (!served.length) {
    const { from, paths } = platform.started;
    const where =
      from === 'arguments'
        ? `no function loads from ${paths.join(', ')}`
        : from === 'registry'
          ? `none of the ${paths.length} function(s) registered earlier loads (sprout dev --fresh starts clean)`
          : `no folder given, none registered earlier, and ${shown(cwd)} holds no function`;
    const why = platform.problems().map((p) => `${p.code}: ${p.message}`);
    throw new PlatformError(
      'SPROUT_ERR_PLATFORM_NOTHING_TO_SERVE',
      `nothing to serve: ${where}${why.length ? `\n  ${why.join('\n  ')}` : ''}`,
    );
  }
  const list = broken.map((b) => `${shown(b.source)} (${b.code})`).join(', ');
  const line = `serving ${served.length} of ${total} function${total === 1 ? '' : 's'}${broken.length ? `; broken: ${list}` : ''}`;
  if (broken.length) logger.warn({ functions: served, broken: broken.map((b) => b.source) }, line);
  else logger.info({ functions: served }, line);
}
