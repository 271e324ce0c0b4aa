import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '@sprout/observe';

/**
 * What `sprout dev` keeps in its data dir between runs (the platform README's "What the data dir
 * holds" lists the same): the registry, the EIP store, the default collector's log files, the
 * functions' embedded state, the resolved-spec cache of `sprout run`, the input bindings' records and the build history. SQLite's `-wal` and `-shm`
 * files go with their database.
 */
const KEPT = ['platform.db', 'eip.db', 'logs', 'state', 'cache', 'triggers', 'build-history'];

/** Where `--fresh` moves what an earlier run left, inside the data dir. */
const PREVIOUS = 'previous';

/**
 * `sprout dev --fresh`: moves what earlier runs kept (see KEPT) into `<dataDir>/previous/`, replacing
 * what an earlier `--fresh` put there, and says what it moved. Touches nothing outside the data dir
 * (a symbolic link is moved or removed as a link, never followed). Returns the names moved.
 */
export function startFresh(dataDir: string, logger: Logger): string[] {
  const dir = resolve(dataDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    logger.info({ dataDir: dir }, `--fresh: ${dir} does not exist yet; nothing to clear`);
    return [];
  }
  const moving = names.filter((n) => KEPT.some((k) => n === k || n === `${k}-wal` || n === `${k}-shm`));
  if (!moving.length) {
    logger.info({ dataDir: dir }, `--fresh: ${dir} holds nothing from earlier runs; nothing to clear`);
    return [];
  }
  const previous = join(dir, PREVIOUS);
  const replaced = existsSync(previous);
  rmSync(previous, { recursive: true, force: true });
  mkdirSync(previous);
  for (const n of moving) renameSync(join(dir, n), join(previous, n));
  logger.info(
    { dataDir: dir, moved: moving, to: previous },
    `--fresh: starting clean; moved ${moving.join(', ')} from earlier runs to ${previous}${replaced ? ' (replacing what the last --fresh moved there)' : ''}`,
  );
  return moving;
}
