// CPU profile of the delivery alone: N messages waiting in the broker, then a V8 CPU profile of the
// delivery engine and the function taking them (publishing and start-up left out), and the CPU
// time per message. With `--as-deployed` the function runs in a process of its own (as under
// `sprout dev`): the profile is then the delivery engine's, and the function's process writes its
// own with `node --cpu-prof` into `--function-prof-dir` when that is given.
//
//   node --conditions=@sprout/source --import tsx bench/triggers-profile.ts [--broker redis] [--messages 20000] [--out triggers.cpuprofile] [--as-deployed [--function-prof-dir DIR]]
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import {
  cloudEvent,
  startAsyncFunction,
  startChildApp,
  type Broker,
  type ChildApp,
} from './triggers-harness.js';

const { values } = parseArgs({
  options: {
    broker: { type: 'string', default: 'redis' },
    messages: { type: 'string', default: '20000' },
    'in-flight': { type: 'string', default: '64' },
    out: { type: 'string', default: 'triggers.cpuprofile' },
    'as-deployed': { type: 'boolean', default: false },
    'function-prof-dir': { type: 'string' },
  },
});
const N = Number(values.messages);
const broker = values.broker as Broker;
const tag = `bench-prof-${process.pid}`;
const profDir = values['function-prof-dir'];
let child: ChildApp | undefined;
const fn = await startAsyncFunction(broker, `${tag}-t`, `${tag}-g`, () => {}, {
  maxInFlight: Number(values['in-flight']),
  held: true,
  app: values['as-deployed']
    ? async (f) =>
        (child = await startChildApp(broker, `${tag}-t`, f.name, {
          warmN: N,
          nodeArgs: profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
        }))
    : undefined,
});
for (let i = 0; i < N; i += 256)
  await Promise.all(
    Array.from({ length: Math.min(256, N - i) }, (_, k) =>
      fn.engine.publish(`${tag}-t`, cloudEvent(`m${i + k}`, { i: i + k })),
    ),
  );
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
const f0 = (await child?.stats())?.cpuUs ?? 0;
const c0 = process.cpuUsage();
const t0 = performance.now();
fn.release();
while (fn.delivered() < N) await new Promise((r) => setTimeout(r, 1));
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
const functionUs = child ? ((await child.stats()).cpuUs - f0) / N : undefined;
const { profile } = await session.post('Profiler.stop');
writeFileSync(values.out, JSON.stringify(profile));
console.log(
  `${broker}: ${N} messages, ${(N / seconds).toFixed(0)} msg/s, ` +
    `CPU ${((cpu.user + cpu.system) / N).toFixed(1)} µs a message` +
    (functionUs === undefined ? '' : ` in the engine's process, ${functionUs.toFixed(1)} in the function's`) +
    `; profile in ${values.out}`,
);
await fn.close();
process.exit(0);
