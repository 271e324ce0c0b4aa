import { format } from 'node:util';

const LEVELS = { log: 'INFO', info: 'INFO', debug: 'DEBUG', warn: 'WARNING', error: 'ERROR' } as const;

/**
 * Makes console.* inside a request write one JSON line with the request's execution id
 * (`{"message", "severity", "execution_id"}`), as the anchors' LOG_EXECUTION_ID does. Lines
 * written outside a request are left as they are. Returns a function that restores console.
 */
export function installExecutionIdLogging(current: () => string | undefined): () => void {
  const originals = new Map<keyof typeof LEVELS, (...args: unknown[]) => void>();
  for (const method of Object.keys(LEVELS) as (keyof typeof LEVELS)[]) {
    const original = console[method].bind(console);
    originals.set(method, console[method]);
    const stream = method === 'warn' || method === 'error' ? process.stderr : process.stdout;
    console[method] = (...args: unknown[]) => {
      const id = current();
      if (!id) return original(...args);
      stream.write(
        JSON.stringify({ message: format(...args), severity: LEVELS[method], execution_id: id }) + '\n',
      );
    };
  }
  return () => {
    for (const [m, fn] of originals) console[m] = fn;
  };
}
