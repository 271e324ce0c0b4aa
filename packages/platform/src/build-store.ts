// The build history of `sprout dev` kept under the data dir, so a restart keeps the list and the logs.
import {
  appendFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { BuildLogLine, BuildView } from './builds.js';

/** How much history is kept. */
export interface BuildStoreLimits {
  /** Finished builds kept (older ones are removed with their logs and outputs). */
  builds: number;
  /** Bytes of log kept on disk per build; lines beyond are not written. */
  logBytes: number;
}

export const DEFAULT_BUILD_STORE_LIMITS: BuildStoreLimits = { builds: 50, logBytes: 4 * 1024 * 1024 };

/** Build ids as BuildManager makes them; nothing else in the folder is read. */
const ID = /^b-[0-9a-z]{1,16}-[0-9a-f]{8}$/;

/** What a build left running when sprout dev stopped without ending it (killed) becomes on the next start. */
export const INTERRUPTED = {
  code: 'SPROUT_ERR_PLATFORM_BUILD_INTERRUPTED',
  message: 'sprout dev stopped while this build ran; start it again with POST /v1/builds',
} as const;

/**
 * `<dir>/<id>.json` (the build as the API shows it, replaced by a rename on every change) and
 * `<id>.log` (its log lines as JSON lines, appended). Unreadable files are skipped, not fatal.
 */
export class BuildStore {
  private readonly logSizes = new Map<string, number>();

  constructor(
    private readonly dir: string,
    private readonly limits: BuildStoreLimits = DEFAULT_BUILD_STORE_LIMITS,
  ) {}

  /**
   * The builds kept, oldest first. One recorded as running was cut short by a stop without cleanup:
   * it is marked failed (`SPROUT_ERR_PLATFORM_BUILD_INTERRUPTED`) and saved so.
   */
  load(): BuildView[] {
    const views: BuildView[] = [];
    let files: string[];
    try {
      files = readdirSync(this.dir);
    } catch {
      return views; // no build yet: the folder is made by the first one
    }
    for (const f of files) {
      const id = f.slice(0, -'.json'.length);
      if (!f.endsWith('.json') || !ID.test(id)) continue;
      try {
        const view = JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as BuildView;
        if (view.id !== id || typeof view.startedAt !== 'string') continue;
        if (view.status === 'running') {
          view.status = 'failed';
          view.error = { ...INTERRUPTED };
          view.finishedAt ??= new Date(statSync(join(this.dir, f)).mtimeMs).toISOString();
          delete view.phase;
          this.save(view);
        }
        views.push(view);
      } catch {
        /* a torn or foreign file: skipped */
      }
    }
    return views.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
  }

  save(view: BuildView): void {
    const file = join(this.dir, `${view.id}.json`);
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(view));
    renameSync(`${file}.tmp`, file);
  }

  /** `save` for a build under way: a write that fails (disk full) loses history, not the build. */
  keep(view: BuildView): void {
    try {
      this.save(view);
    } catch {
      /* the record on disk stays at its last state */
    }
  }

  /** Appends a log line (not past `limits.logBytes`); a write that fails is skipped, as in `keep`. */
  appendLog(id: string, line: BuildLogLine): void {
    const text = `${JSON.stringify(line)}\n`;
    const size = this.logSizes.get(id) ?? 0;
    if (size + Buffer.byteLength(text) > this.limits.logBytes) return;
    try {
      appendFileSync(join(this.dir, `${id}.log`), text);
    } catch {
      return;
    }
    this.logSizes.set(id, size + Buffer.byteLength(text));
  }

  /** The log lines kept for a build (a torn last line is dropped). */
  readLog(id: string): BuildLogLine[] {
    let text: string;
    try {
      text = readFileSync(join(this.dir, `${id}.log`), 'utf8');
    } catch {
      return [];
    }
    const lines: BuildLogLine[] = [];
    for (const l of text.split('\n')) {
      try {
        if (l) lines.push(JSON.parse(l) as BuildLogLine);
      } catch {
        /* torn */
      }
    }
    return lines;
  }

  remove(id: string): void {
    rmSync(join(this.dir, `${id}.json`), { force: true });
    rmSync(join(this.dir, `${id}.log`), { force: true });
    this.logSizes.delete(id);
  }

  /** Ids to drop so that at most `limits.builds` finished builds remain (oldest first), given the list oldest first. */
  overLimit(views: BuildView[]): string[] {
    const finished = views.filter((v) => v.status !== 'running');
    return finished.slice(0, Math.max(0, finished.length - this.limits.builds)).map((v) => v.id);
  }
}
