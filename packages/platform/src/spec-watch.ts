import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Platform } from './platform.js';

/**
 * Re-registers a function when its function.yaml changes (its instances are replaced; a file that
 * became invalid is reported and the running version kept). Returns a function that stops watching.
 */
export function watchSpecs(platform: Platform, debounceMs = 200): () => void {
  const watchers = new Map<string, FSWatcher>();
  const timers = new Map<string, NodeJS.Timeout>();
  const sync = () => {
    const files = new Set(platform.definitions().flatMap((d) => (d.file ? [d.file] : [])));
    for (const [file, w] of watchers) {
      if (files.has(file)) continue;
      w.close();
      watchers.delete(file);
    }
    for (const file of files) {
      if (watchers.has(file)) continue;
      // Watch the folder: editors often replace the file, which ends a watch on the file itself.
      const w = watch(dirname(file), (_event, name) => {
        if (name !== null && !file.endsWith(`/${name}`)) return;
        clearTimeout(timers.get(file));
        timers.set(
          file,
          setTimeout(() => {
            timers.delete(file);
            platform.logger.info({ file }, 'function.yaml changed: registering it again');
            void platform.register([file]);
          }, debounceMs),
        );
      });
      w.on('error', () => w.close());
      watchers.set(file, w);
    }
  };
  sync();
  const off = platform.events.subscribe((e) => {
    if (e.type === 'function.registered' || e.type === 'function.unregistered') sync();
  });
  return () => {
    off();
    for (const t of timers.values()) clearTimeout(t);
    for (const w of watchers.values()) w.close();
  };
}
