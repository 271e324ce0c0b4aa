import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@sprout/observe';
import { startDev, type DevServer } from '@sprout/platform';

/** `sprout dev` for a benchmark: the functions in `paths`, a fresh data dir, loopback, warn-level logs. */
export function startBenchDev(paths: string[], env: NodeJS.ProcessEnv, standby?: number): Promise<DevServer> {
  return startDev({
    ...(standby !== undefined ? { standby } : {}),
    paths,
    dataDir: mkdtempSync(join(tmpdir(), 'sprout-bench-platform-')),
    port: 0,
    host: '127.0.0.1',
    apiPort: 0,
    logger: createLogger({ level: 'warn' }),
    env,
  });
}

/** Resolves once `name` runs no instance. */
export async function untilZero(dev: DevServer, name: string): Promise<void> {
  const runner = dev.platform.runner(name)!;
  while (runner.instances().length > 0) await new Promise((r) => setTimeout(r, 20));
}
