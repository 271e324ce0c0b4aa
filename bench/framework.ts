/**
 * Functions framework benchmark, in one run on one machine, each subject in its own process under
 * autocannon (50 connections, load generator in this process):
 *  - a hello-world `http` function in Sprout, in the anchor (@google-cloud/functions-framework, from
 *    npm) and in bare node:http (the ceiling: the same body, nothing else);
 *  - an `openfunction` `(ctx, data)` function with JSON in and out in Sprout, against bare node:http
 *    reading the body, JSON.parse, JSON.stringify;
 * then cold start (spawn to first 200) for a TypeScript function in Sprout vs a prebuilt
 * JavaScript function in the anchor.
 *
 * Each load records req/s, p50/p99 and the server process's CPU time per request (utime + stime
 * from /proc over the measured window). On a shared machine the CPU per request moves less than
 * req/s with the other load; both are printed, with the load average.
 *
 *   node --import tsx bench/framework.ts [--duration 5] [--rounds 3] [--cold-runs 15]
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { percentile, root, rss, startServer, writeResult } from './lib.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    'cold-runs': { type: 'string', default: '15' },
  },
});
const duration = Number(values.duration);
const rounds = Number(values.rounds);
const coldRuns = Number(values['cold-runs']);
const node = process.execPath;
const sproutBin = `${root}packages/cli/bin/sprout.js`;
const anchorBin = `${root}node_modules/@google-cloud/functions-framework/build/src/main.js`;
const sproutRun = (fixture: string, ...flags: string[]) => [
  node,
  sproutBin,
  'run',
  `${root}bench/fixtures/${fixture}`,
  '--target',
  'hello',
  '--host',
  '127.0.0.1',
  ...flags,
];

/** The JSON body the openfunction subjects get (and parse, and answer with JSON). */
const jsonRequest = {
  method: 'POST' as const,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'world', n: 1 }),
};
const subjects = {
  sprout: { cmd: sproutRun('hello-js'), json: false },
  anchor: {
    cmd: [node, anchorBin, '--target', 'hello', '--source', `${root}bench/fixtures/hello-js`],
    json: false,
  },
  bare: { cmd: [node, `${root}bench/fixtures/bare.mjs`], json: false },
  sproutOpenfunction: { cmd: sproutRun('hello-of', '--signature-type', 'openfunction'), json: true },
  bareJson: { cmd: [node, `${root}bench/fixtures/bare-json.mjs`], json: true },
};
type Subject = keyof typeof subjects;
const names = Object.keys(subjects) as Subject[];

interface Load {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time (user + system) of the server process per request, in microseconds. */
  cpuUsPerRequest: number;
  errors: number;
  non2xx: number;
  rssMiB: number;
  peakRssMiB: number;
}

/** CPU time (user + system) a process has used, in milliseconds (Linux clock ticks are 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function load(name: Subject): Promise<Load> {
  const { cmd, json } = subjects[name];
  const s = await startServer(cmd);
  try {
    const opts = { url: s.url, connections: 50, ...(json ? jsonRequest : {}) };
    await autocannon({ ...opts, duration: 2 }); // warm-up
    const cpu0 = cpuMs(s.child.pid!);
    const r = await autocannon({ ...opts, duration });
    const cpu = cpuMs(s.child.pid!) - cpu0;
    const mem = rss(s.child.pid!);
    const out = {
      requestsPerSec: Math.round(r.requests.average),
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      cpuUsPerRequest: +((cpu * 1000) / Math.max(r.requests.total, 1)).toFixed(1),
      errors: r.errors + r.timeouts,
      non2xx: r.non2xx,
      rssMiB: mem.rssMiB,
      peakRssMiB: mem.peakMiB,
    };
    console.log(
      `${name.padEnd(18)} ${String(out.requestsPerSec).padStart(7)} req/s  p50 ${out.p50Ms} ms  p99 ${out.p99Ms} ms  CPU ${out.cpuUsPerRequest} µs/req  RSS ${out.rssMiB} MiB (peak ${out.peakRssMiB})  errors ${out.errors} non-2xx ${out.non2xx}  load ${loadavg()[0]!.toFixed(1)}`,
    );
    return out;
  } finally {
    await s.stop();
  }
}

/** Cold starts of several commands, interleaved run by run so machine load drifts evenly. */
async function coldStarts(
  cmds: Record<string, string[]>,
): Promise<Record<string, { medianMs: number; p90Ms: number; runs: number[] }>> {
  const runs: Record<string, number[]> = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i < coldRuns; i++) {
    for (const [name, cmd] of Object.entries(cmds)) {
      const s = await startServer(cmd);
      runs[name]!.push(Math.round(s.coldStartMs));
      await s.stop();
    }
  }
  return Object.fromEntries(
    Object.entries(runs).map(([k, r]) => [
      k,
      { medianMs: percentile(r, 50), p90Ms: percentile(r, 90), runs: r },
    ]),
  );
}

const loadBefore = loadavg().map((x) => +x.toFixed(1));
console.log(
  `throughput: autocannon, 50 connections, ${duration} s a round, ${rounds} rounds with the subjects interleaved (load generator in this process); medians reported (ratios: the median of each round's ratio); load average ${loadBefore.join(' ')}`,
);
const samples = Object.fromEntries(names.map((n) => [n, [] as Load[]])) as Record<Subject, Load[]>;
for (let r = 0; r < rounds; r++) {
  const order = names.slice(r % names.length).concat(names.slice(0, r % names.length));
  for (const name of order) samples[name].push(await load(name));
}
const loadAfter = loadavg().map((x) => +x.toFixed(1));
const median = (list: Load[]): Load => {
  const by = (k: keyof Load) =>
    percentile(
      list.map((x) => x[k]),
      50,
    );
  return {
    requestsPerSec: by('requestsPerSec'),
    p50Ms: by('p50Ms'),
    p99Ms: by('p99Ms'),
    cpuUsPerRequest: by('cpuUsPerRequest'),
    errors: list.reduce((a, x) => a + x.errors, 0),
    non2xx: list.reduce((a, x) => a + x.non2xx, 0),
    rssMiB: by('rssMiB'),
    peakRssMiB: by('peakRssMiB'),
  };
};
const results = Object.fromEntries(names.map((n) => [n, median(samples[n])])) as Record<Subject, Load>;

console.log(`cold start: spawn to first 200, ${coldRuns} runs each`);
const cold = await coldStarts({
  sproutTypeScript: sproutRun('hello-ts'),
  sproutJavaScript: subjects.sprout.cmd,
  anchorJavaScript: subjects.anchor.cmd,
});
for (const [k, v] of Object.entries(cold))
  console.log(`${k.padEnd(17)} median ${v.medianMs} ms  p90 ${v.p90Ms} ms`);

const ratio = (a: number, b: number) => +(a / b).toFixed(2);
/**
 * The median over rounds of one subject's figure against its peer's in the same round: the two
 * ran seconds apart, so a round the machine's other load spoiled spoils both and not the ratio.
 */
const paired = (a: Subject, b: Subject, f: (x: Load, y: Load) => number) =>
  +percentile(
    samples[a].map((x, i) => f(x, samples[b][i]!)),
    50,
  ).toFixed(2);
const perSecond = (x: Load, y: Load) => x.requestsPerSec / y.requestsPerSec;
const cpuEfficiency = (x: Load, y: Load) => y.cpuUsPerRequest / x.cpuUsPerRequest;
const p99Over = (x: Load, y: Load) => x.p99Ms - y.p99Ms;
const { sprout, anchor, sproutOpenfunction } = results;
const ratios = {
  throughputVsAnchor: paired('sprout', 'anchor', perSecond),
  throughputVsBare: paired('sprout', 'bare', perSecond),
  openfunctionThroughputVsBareJson: paired('sproutOpenfunction', 'bareJson', perSecond),
  /** Bare's CPU per request over Sprout's: the throughput ratio of a saturated server on idle cores. */
  cpuEfficiencyVsBare: paired('sprout', 'bare', cpuEfficiency),
  openfunctionCpuEfficiencyVsBareJson: paired('sproutOpenfunction', 'bareJson', cpuEfficiency),
  cpuEfficiencyVsAnchor: paired('sprout', 'anchor', cpuEfficiency),
  p99MsOverBare: paired('sprout', 'bare', p99Over),
  openfunctionP99MsOverBareJson: paired('sproutOpenfunction', 'bareJson', p99Over),
  p99VsAnchor: ratio(sprout.p99Ms, Math.max(anchor.p99Ms, 1)),
  rssVsAnchor: ratio(sprout.rssMiB, anchor.rssMiB),
  openfunctionRssMiB: sproutOpenfunction.rssMiB,
  coldStartTsVsAnchorJs: ratio(cold.sproutTypeScript!.medianMs, cold.anchorJavaScript!.medianMs),
};
console.log(
  'ratios',
  ratios,
  '(targets: http ≥ 0.75x bare, openfunction JSON ≥ 0.6x bare JSON, p99 within 1 ms of bare, ≥ 4x anchor; p99, RSS and cold start ≤ 1x anchor)',
  `load average ${loadBefore.join(' ')} before, ${loadAfter.join(' ')} after the throughput rounds`,
);
writeResult('framework', {
  date: new Date().toISOString(),
  node: process.version,
  duration,
  rounds,
  connections: 50,
  loadAverage: { before: loadBefore, after: loadAfter },
  results,
  cold,
  ratios,
});
