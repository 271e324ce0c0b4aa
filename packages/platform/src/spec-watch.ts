import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Platform } from './platform.js';
import { registrationTarget } from './sources.js';

/**
 * Re-registers a function when its function.yaml changes (its instances are replaced; a file that
 * became invalid is reported and the running version kept), and registers a source that did not
 * load (a broken function.yaml, a package.json that did not parse) once it loads. Returns a
 * function that stops watching.
 */
export function watchSpecs(platform: Platform, debounceMs = 200): () => void {
  const watchers = new Map<string, FSWatcher>();
  const timers = new Map<string, NodeJS.Timeout>();
  const changed = async (file: string) => {
    const running = platform.definitions().find((d) => d.file === file);
    if (running) {
      platform.logger.info({ file }, 'function.yaml changed: registering it again');
      const r = await platform.register([file]);
      if (r.errors.length && !r.functions.length) {
        platform.logger.warn(
          { file, function: running.name },
          `${file} no longer loads: function ${running.name} keeps running as it was until the file is fixed`,
        );
      }
      return;
    }
    const target = registrationTarget(file) ?? dirname(file);
    const r = await platform.register([target], { keepOthers: true });
    if (r.functions.length) {
      for (const f of r.functions) {
        platform.logger.info({ file, function: f.name }, `${file} loads now: function ${f.name} registered`);
      }
    } else {
      platform.logger.warn({ file }, `${file} changed and still does not load`);
    }
  };
  const watchFile = (file: string) => {
    // Watch the folder: editors often replace the file, which ends a watch on the file itself.
    let w: FSWatcher;
    try {
      w = watch(dirname(file), (_event, name) => {
        if (name !== null && !file.endsWith(`/${name}`)) return;
        clearTimeout(timers.get(file));
        timers.set(
          file,
          setTimeout(() => {
            timers.delete(file);
            void changed(file).catch((err: unknown) =>
              platform.logger.error({ err, file }, 'could not register the changed file'),
            );
          }, debounceMs),
        );
      });
    } catch {
      return; // its folder is gone: nothing to watch
    }
    w.on('error', () => w.close());
    watchers.set(file, w);
  };
  const sync = () => {
    const files = new Set(platform.definitions().flatMap((d) => (d.file ? [d.file] : [])));
    for (const b of platform.broken()) if (registrationTarget(b.source)) files.add(b.source);
    for (const [file, w] of watchers) {
      if (files.has(file)) continue;
      w.close();
      watchers.delete(file);
    }
    for (const file of files) if (!watchers.has(file)) watchFile(file);
  };
  sync();
  const off = platform.events.subscribe((e) => {
    if (
      e.type === 'function.registered' ||
      e.type === 'function.unregistered' ||
      e.type === 'function.failed'
    )
      sync();
  });
  return () => {
    off();
    for (const t of timers.values()) clearTimeout(t);
    for (const w of watchers.values()) w.close();
  };
}
