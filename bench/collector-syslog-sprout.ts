// Sprout's collector as bench/collector-syslog.ts runs it: DIR/collector.yaml, until SIGTERM.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCollector, parseConfig } from '@sprout/collector';
import { createLogger } from '@sprout/observe';

const dir = process.argv[2]!;
const collector = createCollector(parseConfig(readFileSync(join(dir, 'collector.yaml'), 'utf8')), {
  logger: createLogger({ name: 'collector', level: 'warn' }),
});
await collector.start();
process.once('SIGTERM', () => void collector.close().then(() => process.exit(0)));
