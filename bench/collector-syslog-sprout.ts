// Sprout's collector as bench/collector-syslog.ts runs it: DIR/collector.yaml, until SIGTERM.
// BENCH_COLLECTOR_MODULE: another copy of the collector's src/index.ts (an earlier commit's, for a
// before/after in one run) instead of @sprout/collector.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLogger } from '@sprout/observe';
import type * as Collector from '@sprout/collector';

const mod = process.env.BENCH_COLLECTOR_MODULE;
const { createCollector, parseConfig } = (await import(
  mod ? pathToFileURL(mod).href : '@sprout/collector'
)) as typeof Collector;

const dir = process.argv[2]!;
const collector = createCollector(parseConfig(readFileSync(join(dir, 'collector.yaml'), 'utf8')), {
  logger: createLogger({ name: 'collector', level: 'warn' }),
});
await collector.start();
process.once('SIGTERM', () => void collector.close().then(() => process.exit(0)));
