// Async functions on real brokers (NATS JetStream, Redis Streams, RabbitMQ): a no-op OpenFunction async
// function served by @sprout/framework with the @sprout/triggers delivery engine between it and the
// broker, against the bare client's own consume+ack loop, in the same run (alternating rounds).
// As deployed (the default), as `sprout dev` runs it: the delivery engine in this process, the
// function in a process of its own (bench/triggers-function.ts) that the engine POSTs to; CPU per
// message is the sum of both. `--in-process` runs both in this one process, for comparison.
//   1. throughput: N messages waiting in the broker, consumed and acked, messages/s and the ratio;
//   2. latency: publish → handler at a fixed 1,000 msg/s, p50/p99, and what the delivery adds (the
//      first seconds are a warm-up, not counted: a cold process compiles its modules then);
//   3. a kill -9 soak: the process running the delivery engine and the function is killed -9 while
//      messages flow and started again; every message is counted (lost must be 0, duplicates told).
//
// The function process's peak resident memory is reported beside its CPU; `--function-flags` starts
// it with Node/V8 flags (sprout dev gives its instances none), to compare.
//
//   node --conditions=@sprout/source --import tsx bench/triggers.ts [--messages 20000] [--warm-up-messages 10000] [--rounds 3] [--brokers jetstream,redis,rabbitmq] [--throughput-only] [--in-process] [--function-flags "--max-semi-space-size=32"]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openPubSub, type PubSubEngine } from '@sprout/triggers';
import { percentile, root, writeResult } from './lib.js';
import { bareClients, type Bare } from './triggers-bare.js';
import {
  type ChildApp,
  BROKERS,
  cloudEvent,
  nowMs,
  startAsyncFunction,
  startChildApp,
  type Broker,
} from './triggers-harness.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    // taken first in each round and not counted, each side: a new function process compiles its hot
    // paths then (a long-running one has), and this one those of the engine and the bare loop
    'warm-up-messages': { type: 'string', default: '10000' },
    'in-flight': { type: 'string', default: '64' },
    'latency-seconds': { type: 'string', default: '5' },
    'warm-up-seconds': { type: 'string', default: '2' },
    'soak-messages': { type: 'string', default: '2000' },
    'soak-kills': { type: 'string', default: '3' },
    brokers: { type: 'string', default: 'jetstream,redis,rabbitmq' },
    'throughput-only': { type: 'boolean', default: false },
    'in-process': { type: 'boolean', default: false },
    // Node flags for the function's process (sprout dev starts its instances with none), to compare.
    'function-flags': { type: 'string', default: '' },
  },
});
const N = Number(values.messages);
const ROUNDS = Number(values.rounds);
const WARM_MESSAGES = Number(values['warm-up-messages']);
const IN_FLIGHT = Number(values['in-flight']);
const WARM_S = Number(values['warm-up-seconds']);
/** Messages published at the fixed rate: the warm-up ones first (not counted), then the measured. */
const LATENCY_S = Number(values['latency-seconds']) + WARM_S;
const WARM_N = WARM_S * 1000;
const RATE = 1000;
const SOAK_N = Number(values['soak-messages']);
const SOAK_KILLS = Number(values['soak-kills']);
const brokers = values.brokers.split(',') as Broker[];
const IN_PROCESS = values['in-process'];
/** The function's process starts as sprout dev starts an instance: no Node flags, unless asked. */
const CHILD_FLAGS = values['function-flags'].split(' ').filter(Boolean);
const MODE = IN_PROCESS ? 'in-process' : 'as-deployed';
const tag = `bench-trig-${process.pid}`;
let seq = 0;
const unique = (what: string) => `${tag}-${what}-${seq++}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const progress = (what: string) => process.stderr.write(`  … ${what}\n`);

async function until(check: () => boolean, what: string, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

/** Publishes `count` messages, `window` at a time. */
async function publishAll(count: number, send: (i: number) => Promise<unknown>, window = 256): Promise<void> {
  for (let i = 0; i < count; i += window)
    await Promise.all(Array.from({ length: Math.min(window, count - i) }, (_, k) => send(i + k)));
}

/** Publishes at `rate` per second for `seconds`, each message stamped with its send time. */
async function publishAtRate(seconds: number, send: (i: number, sentAt: number) => Promise<unknown>) {
  const total = seconds * RATE;
  const t0 = nowMs();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < total;) {
    const due = Math.min(total, Math.floor(((nowMs() - t0) * RATE) / 1000) + 1);
    for (; i < due; i++) pending.push(send(i, nowMs()));
    await sleep(1);
  }
  await Promise.all(pending);
  return total;
}

// ---------------------------------------------------------------- the Sprout path (delivery engine)

/**
 * A throughput round: msg/s and CPU time (user + system) per message, in µs: `cpuUs` is every
 * process of the path (this one, plus the function's own as deployed), `functionUs` the function's.
 */
interface Round {
  rate: number;
  cpuUs: number;
  functionUs?: number;
  /** The function process's peak resident memory (as deployed), MiB. */
  functionRssMiB?: number;
}

const cpuUs = (since: NodeJS.CpuUsage, messages = N) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / messages;
};

/** The function as this run places it: in its own process (`child` set) or in this one. */
async function startFunction(broker: Broker, topic: string, handler: (data: unknown) => void, held = false) {
  const group = unique('g');
  let child: ChildApp | undefined;
  const fn = await startAsyncFunction(broker, topic, group, handler, {
    maxInFlight: IN_FLIGHT,
    held,
    app: IN_PROCESS
      ? undefined
      : async () =>
          (child = await startChildApp(broker, topic, group, { warmN: WARM_N, nodeArgs: CHILD_FLAGS })),
  });
  return { fn, child };
}

async function sproutThroughput(broker: Broker): Promise<Round> {
  progress(`${broker}: throughput through the delivery engine (${MODE})`);
  const topic = unique('tp');
  const { fn, child } = await startFunction(broker, topic, () => {}, true);
  await publishAll(WARM_MESSAGES + N, (i) => fn.engine.publish(topic, cloudEvent(`m${i}`, { i })));
  fn.release();
  await until(() => fn.delivered() >= WARM_MESSAGES, `${WARM_MESSAGES} warm-up deliveries on ${broker}`);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  // the measured ones: those delivered from here (a few past the warm-up ones already were)
  const measured = WARM_MESSAGES + N - fn.delivered();
  const f0 = (await child?.stats())?.cpuUs ?? 0;
  await until(() => fn.delivered() >= WARM_MESSAGES + N, `${N} deliveries on ${broker}`);
  const rate = measured / ((performance.now() - t0) / 1000);
  const engineUs = cpuUs(c0, measured);
  const after = await child?.stats();
  const functionUs = after ? (after.cpuUs - f0) / measured : undefined;
  await fn.close();
  return { rate, cpuUs: engineUs + (functionUs ?? 0), functionUs, functionRssMiB: after?.maxRssMiB };
}

async function sproutLatency(broker: Broker): Promise<number[]> {
  progress(`${broker}: latency through the delivery engine (${MODE})`);
  const topic = unique('lat');
  const samples: number[] = [];
  const { fn, child } = await startFunction(broker, topic, (data) => {
    const { i, sentAt } = data as { i: number; sentAt: number };
    if (i >= WARM_N) samples.push(nowMs() - sentAt);
  });
  const total = await publishAtRate(LATENCY_S, (i, sentAt) =>
    fn.engine.publish(topic, cloudEvent(`l${i}`, { i, sentAt })),
  );
  await until(() => fn.delivered() >= total, 'the latency run');
  if (child) samples.push(...(await child.stats()).samples);
  await fn.close();
  return samples;
}

// ---------------------------------------------------------------- the bare clients' own loops

async function bareThroughput(bare: Bare): Promise<Round> {
  progress('throughput of the bare client');
  const topic = unique('bare-tp');
  await bare.prepare(topic);
  await publishAll(WARM_MESSAGES + N, (i) => bare.publish(topic, cloudEvent(`b${i}`, { i })));
  let got = 0;
  let t0 = performance.now();
  let c0 = process.cpuUsage();
  await bare.consume(
    topic,
    () => {
      if (++got !== WARM_MESSAGES) return;
      t0 = performance.now();
      c0 = process.cpuUsage();
    },
    () => got >= WARM_MESSAGES + N,
  );
  return { rate: N / ((performance.now() - t0) / 1000), cpuUs: cpuUs(c0) };
}

async function bareLatency(bare: Bare): Promise<number[]> {
  progress('latency of the bare client');
  const topic = unique('bare-lat');
  await bare.prepare(topic);
  const samples: number[] = [];
  let got = 0;
  const total = LATENCY_S * RATE;
  const consuming = bare.consume(
    topic,
    (e) => {
      const { i, sentAt } = e.data as { i: number; sentAt: number };
      if (i >= WARM_N) samples.push(nowMs() - sentAt);
      got++;
    },
    () => got >= total,
  );
  await publishAtRate(LATENCY_S, (i, sentAt) => bare.publish(topic, cloudEvent(`bl${i}`, { i, sentAt })));
  await consuming;
  return samples;
}

// ---------------------------------------------------------------- kill -9 soak

interface Soak {
  published: number;
  handled: number;
  unique: number;
  lost: number;
  duplicated: number;
  kills: number;
}

function startChild(broker: Broker, topic: string, group: string, file: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@sprout/source',
      '--import',
      'tsx',
      `${root}bench/triggers-soak.ts`,
      broker,
      topic,
      group,
      file,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`soak child exited (${code}) before it was ready`)));
  });
}

async function soak(broker: Broker, engine: PubSubEngine): Promise<Soak> {
  progress(`${broker}: kill -9 soak`);
  const topic = unique('soak');
  const group = unique('soak-g');
  const dir = mkdtempSync(join(tmpdir(), 'sprout-bench-soak-'));
  const file = join(dir, 'handled.txt');
  const lines = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
  let child = await startChild(broker, topic, group, file);
  // ~SOAK_N messages over ~5 s, the child killed -9 SOAK_KILLS times while they flow.
  const perTick = Math.max(1, Math.round(SOAK_N / 500));
  const killAt = new Set(
    Array.from({ length: SOAK_KILLS }, (_, k) => Math.floor(((k + 1) * SOAK_N) / (SOAK_KILLS + 1))),
  );
  let kills = 0;
  for (let i = 0; i < SOAK_N;) {
    const sends: Promise<void>[] = [];
    for (let k = 0; k < perTick && i < SOAK_N; k++, i++) {
      sends.push(engine.publish(topic, cloudEvent(`s${i}`, { n: i })));
      if (killAt.has(i)) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        kills++;
        child = await startChild(broker, topic, group, file);
      }
    }
    await Promise.all(sends);
    await sleep(10);
  }
  try {
    await until(() => new Set(lines()).size >= SOAK_N, `all ${SOAK_N} soak messages on ${broker}`, 90_000);
  } catch (err) {
    console.error((err as Error).message);
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const all = lines();
  const seen = new Set(all);
  rmSync(dir, { recursive: true, force: true });
  return {
    published: SOAK_N,
    handled: all.length,
    unique: seen.size,
    lost: SOAK_N - seen.size,
    duplicated: all.length - seen.size,
    kills,
  };
}

// ---------------------------------------------------------------- run

const median = (xs: number[]) => percentile(xs, 50);
const r1 = (x: number) => Number(x.toFixed(1));
const r2 = (x: number) => Number(x.toFixed(2));
const results: Record<string, unknown> = {};

for (const broker of brokers) {
  const bare = await bareClients[broker]!(IN_FLIGHT);
  const sproutRounds: Round[] = [];
  const bareRounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    sproutRounds.push(await sproutThroughput(broker));
    bareRounds.push(await bareThroughput(bare));
  }
  const sprout = sproutRounds.map((x) => x.rate);
  const bareRates = bareRounds.map((x) => x.rate);
  const cpu = {
    sprout: r1(median(sproutRounds.map((x) => x.cpuUs))),
    bare: r1(median(bareRounds.map((x) => x.cpuUs))),
    ...(IN_PROCESS ? {} : { sproutFunction: r1(median(sproutRounds.map((x) => x.functionUs!))) }),
  };
  const instance = IN_PROCESS
    ? undefined
    : {
        nodeFlags: CHILD_FLAGS.join(' '),
        peakRssMiB: r1(Math.max(...sproutRounds.map((x) => x.functionRssMiB!))),
      };
  const throughput = {
    mode: MODE,
    sprout: r1(median(sprout)),
    bare: r1(median(bareRates)),
    ratio: r2(median(sprout) / median(bareRates)),
    cpuPerMessageUs: cpu,
    ...(instance ? { instance } : {}),
    load1: r2(loadavg()[0]!),
    rounds: { sprout: sprout.map(r1), bare: bareRates.map(r1) },
  };
  console.log(
    `\n${broker}: ${N} messages, ${IN_FLIGHT} in flight, ${MODE}, load ${throughput.load1}\n` +
      `  throughput  sprout ${throughput.sprout} msg/s   bare ${throughput.bare} msg/s   ratio ${throughput.ratio}x\n` +
      `  rounds      sprout ${sprout.map((x) => x.toFixed(0)).join(' ')}   bare ${bareRates.map((x) => x.toFixed(0)).join(' ')}\n` +
      `  CPU/message sprout ${cpu.sprout} µs   bare ${cpu.bare} µs   (user + system` +
      (IN_PROCESS
        ? ', one process each)'
        : `; sprout: both processes, the function's ${cpu.sproutFunction} µs)\n` +
          `  function process: flags "${instance!.nodeFlags}", peak RSS ${instance!.peakRssMiB} MiB`),
  );
  if (values['throughput-only']) {
    // a quick look (CPU per message, ratio): bench/results/triggers.json keeps the full runs only
    await bare.close();
    continue;
  }

  const viaSprout = await sproutLatency(broker);
  const viaBare = await bareLatency(bare);
  const lat = (xs: number[]) => ({ p50: r2(percentile(xs, 50)), p99: r2(percentile(xs, 99)) });
  const latency = {
    rate: RATE,
    warmUpSeconds: WARM_S,
    measured: viaSprout.length,
    sprout: lat(viaSprout),
    bare: lat(viaBare),
    addedP50: r2(percentile(viaSprout, 50) - percentile(viaBare, 50)),
  };
  console.log(
    `  latency at ${RATE} msg/s  sprout p50 ${latency.sprout.p50} ms p99 ${latency.sprout.p99} ms   ` +
      `bare p50 ${latency.bare.p50} ms p99 ${latency.bare.p99} ms   added p50 ${latency.addedP50} ms`,
  );
  await bare.close();

  const publisher = await openPubSub({ name: 'bus', ...BROKERS[broker] });
  const soakFigures = await soak(broker, publisher);
  await publisher.close();
  console.log(
    `  kill -9 soak  ${soakFigures.published} published, ${soakFigures.kills} kills: ` +
      `lost ${soakFigures.lost}, duplicated ${soakFigures.duplicated}`,
  );
  // the in-process figures are kept next to the as-deployed ones, not over them
  results[IN_PROCESS ? `${broker}:in-process` : broker] = {
    date: new Date().toISOString(),
    mode: MODE,
    messages: N,
    warmUpMessages: WARM_MESSAGES,
    inFlight: IN_FLIGHT,
    throughput,
    latency,
    soak: soakFigures,
  };
}

if (values['throughput-only']) process.exit(0);
// A run over some brokers keeps the last figures of the others (each broker has its own date).
const file = `${root}bench/results/triggers.json`;
const earlier = existsSync(file)
  ? ((JSON.parse(readFileSync(file, 'utf8')) as { results?: Record<string, unknown> }).results ?? {})
  : {};
writeResult('triggers', {
  node: process.version,
  note: 'shared machine (2 cores, other test runs): figures are noisy',
  results: { ...earlier, ...results },
});
process.exit(0);
