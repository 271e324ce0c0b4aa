/**
 * Functions framework benchmark: a hello-world HTTP function under autocannon (50 connections)
 * for Sprout, for the anchor (@google-cloud/functions-framework, from npm) and for a bare
 * node:http server, in one run on one machine; then cold start (spawn to first 200) for a
 * TypeScript function in Sprout vs a prebuilt JavaScript function in the anchor.
 *
 *   node --import tsx bench/framework.ts [--duration 10] [--cold-runs 15]
 */
import autocannon from 'autocannon';
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

const subjects = {
  sprout: [
    node,
    sproutBin,
    'run',
    `${root}bench/fixtures/hello-js`,
    '--target',
    'hello',
    '--host',
    '127.0.0.1',
  ],
  anchor: [node, anchorBin, '--target', 'hello', '--source', `${root}bench/fixtures/hello-js`],
  bare: [node, `${root}bench/fixtures/bare.mjs`],
};

interface Load {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  rssMiB: number;
  peakRssMiB: number;
}

async function load(name: keyof typeof subjects): Promise<Load> {
  const s = await startServer(subjects[name]);
  try {
    await autocannon({ url: s.url, connections: 50, duration: 2 }); // warm-up
    const r = await autocannon({ url: s.url, connections: 50, duration });
    const mem = rss(s.child.pid!);
    const out = {
      requestsPerSec: Math.round(r.requests.average),
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      errors: r.errors + r.timeouts,
      non2xx: r.non2xx,
      rssMiB: mem.rssMiB,
      peakRssMiB: mem.peakMiB,
    };
    console.log(
      `${name.padEnd(7)} ${String(out.requestsPerSec).padStart(7)} req/s  p50 ${out.p50Ms} ms  p99 ${out.p99Ms} ms  RSS ${out.rssMiB} MiB (peak ${out.peakRssMiB})  errors ${out.errors} non-2xx ${out.non2xx}`,
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

console.log(
  `throughput: autocannon, 50 connections, ${duration} s a round, ${rounds} rounds with the subjects interleaved (load generator in this process); medians reported`,
);
const samples: Record<keyof typeof subjects, Load[]> = { sprout: [], anchor: [], bare: [] };
for (let r = 0; r < rounds; r++) {
  const order = (['sprout', 'anchor', 'bare'] as const)
    .slice(r % 3)
    .concat((['sprout', 'anchor', 'bare'] as const).slice(0, r % 3));
  for (const name of order) samples[name].push(await load(name));
}
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
    errors: list.reduce((a, x) => a + x.errors, 0),
    non2xx: list.reduce((a, x) => a + x.non2xx, 0),
    rssMiB: by('rssMiB'),
    peakRssMiB: by('peakRssMiB'),
  };
};
const results = {
  sprout: median(samples.sprout),
  anchor: median(samples.anchor),
  bare: median(samples.bare),
};

console.log(`cold start: spawn to first 200, ${coldRuns} runs each`);
const cold = await coldStarts({
  sproutTypeScript: [
    node,
    sproutBin,
    'run',
    `${root}bench/fixtures/hello-ts`,
    '--target',
    'hello',
    '--host',
    '127.0.0.1',
  ],
  sproutJavaScript: subjects.sprout,
  anchorJavaScript: subjects.anchor,
});
for (const [k, v] of Object.entries(cold))
  console.log(`${k.padEnd(17)} median ${v.medianMs} ms  p90 ${v.p90Ms} ms`);

const ratios = {
  throughputVsAnchor: +(results.sprout.requestsPerSec / results.anchor.requestsPerSec).toFixed(2),
  throughputVsBare: +(results.sprout.requestsPerSec / results.bare.requestsPerSec).toFixed(2),
  p99VsAnchor: +(results.sprout.p99Ms / Math.max(results.anchor.p99Ms, 1)).toFixed(2),
  rssVsAnchor: +(results.sprout.rssMiB / results.anchor.rssMiB).toFixed(2),
  coldStartTsVsAnchorJs: +(cold.sproutTypeScript!.medianMs / cold.anchorJavaScript!.medianMs).toFixed(2),
};
console.log(
  'ratios',
  ratios,
  '(targets: throughput ≥ 4x anchor and ≥ 0.5x bare; p99, RSS and cold start ≤ 1x anchor)',
);
writeResult('framework', {
  date: new Date().toISOString(),
  node: process.version,
  duration,
  connections: 50,
  results,
  cold,
  ratios,
});
