// The process bench/triggers.ts kills -9: an async function on `broker`/`topic` (durable group
// `group`) whose handler appends each message's CloudEvent data `n` to `file` (a synchronous write,
// so what was handled before the kill is on record). Prints "ready" once it consumes.
//
//   node --conditions=@sprout/source --import tsx bench/triggers-soak.ts <broker> <topic> <group> <file>
import { appendFileSync } from 'node:fs';
import { startAsyncFunction, type Broker } from './triggers-harness.js';

const [broker, topic, group, file] = process.argv.slice(2) as [Broker, string, string, string];
const fn = await startAsyncFunction(
  broker,
  topic,
  group,
  (data) => appendFileSync(file, `${(data as { n: number }).n}\n`),
  { maxInFlight: 16 },
);
process.stdout.write('ready\n');
process.once('SIGTERM', () => void fn.close().then(() => process.exit(0)));
