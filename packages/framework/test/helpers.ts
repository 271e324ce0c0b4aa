import { fileURLToPath } from 'node:url';
import { createLogger } from '@sprout/observe';
import { serve, type FunctionConfig, type RunningServer, type ServeOptions } from '@sprout/framework';

export const fixture = (name: string): string =>
  fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const quiet = createLogger({ level: 'silent' });

/** Serves functions on a free loopback port with logs off; the caller closes. */
export function start(
  functions: FunctionConfig | FunctionConfig[],
  options: Partial<ServeOptions> = {},
): Promise<RunningServer> {
  return serve({ functions, port: 0, host: '127.0.0.1', logger: quiet, ...options });
}

export const json = { 'content-type': 'application/json' };
