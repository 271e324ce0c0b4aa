// `sprout build` of examples/ticket-ts (twenty locked dependencies, tsc) against its floor, peers in
// the same run, rounds interleaved, medians:
//   - cold build against the floor `npm ci && tsc -p . && tar -czf` of the same tree (same npm
//     cache for both). Cold means no dependency cache: the image's layer cache (builder/cache) is
//     removed and the image goes to a new output layout, so npm ci, tsc, the framework layer's
//     copy and every app-specific layer run again. The data dir's machine-level store
//     (builder/shared: the assembled run image and layer blobs by folder fingerprint) is kept, as
//     `pack` keeps the run image it pulled once; a build with an empty data dir (the store made
//     too) is timed once beside its own floor, before the rounds;
//   - warm rebuild after one app file changed (src/seat.ts) — target ≤ 2 s; beside it `tsc -p .`
//     alone on the same change (the app's build step, which no builder can skip);
//   - image size (compressed layers + config) against the floor: a gzip tar of the node binary,
//     the production node_modules and the app (dist/, package.json) — target ≤ floor + 10 MiB;
//   - push of the built image to a docker-registry started here (a new one each round, every blob
//     uploaded) against `skopeo copy oci:… docker://…` of the same layout — target ≤ 1.2x;
//   - the cold builds of every round give one digest.
//
// The builds run in this process through buildImage, as `sprout build` calls it (the CLI's own
// start-up, about half a second, is not counted).
//
//   node --conditions=@sprout/source --import tsx bench/builder.ts [--rounds 3]
//
// Writes bench/results/builder.json.
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { assembleRunImage, buildImage, pushImage } from '@sprout/builder';
import { startRegistry } from '@sprout/builder/testing';
import { root, writeResult } from './lib.js';

const run = promisify(execFile);
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const ROUNDS = Number(values.rounds);
const example = join(root, 'examples', 'ticket-ts');
const work = mkdtempSync(join(tmpdir(), 'bench-builder-'));
const r1 = (n: number) => Math.round(n * 10) / 10;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return r1(s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2);
};
const MiB = 1024 * 1024;
let frameworkDir = dirname(createRequire(import.meta.url).resolve('@sprout/framework'));
while (!existsSync(join(frameworkDir, 'package.json'))) frameworkDir = dirname(frameworkDir);

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { ms: performance.now() - t0, value };
}

const sh = (cmd: string, cwd: string) => run('bash', ['-c', cmd], { cwd, maxBuffer: 64 * MiB });

/** The floor: npm ci && tsc && tar of a fresh copy of the tree. Returns the tree. */
async function floorBuild(round: number): Promise<{ ms: number; dir: string }> {
  const dir = join(work, `floor-${round}`);
  cpSync(example, dir, { recursive: true, filter: (p) => !/node_modules|dist/.test(p) });
  const { ms } = await timed(() =>
    sh('npm ci --no-audit --no-fund --loglevel=error && npx tsc -p . && tar -czf ../floor.tgz .', dir),
  );
  // The part of a warm rebuild no builder can skip: the app's own build step alone.
  appendFileSync(join(dir, 'src', 'seat.ts'), `// changed\n`);
  rows.tscOnlyMs!.push((await timed(() => sh('npx tsc -p .', dir))).ms);
  return { ms, dir };
}

/** Floor image size: gzip tar of node + production node_modules + app. */
async function floorSize(dir: string): Promise<number> {
  await sh('npm prune --omit=dev --no-audit --no-fund --loglevel=error', dir);
  const out = join(work, 'floor-image.tgz');
  await sh(`tar -czf ${out} -C ${dir} node_modules dist package.json -C / ${process.execPath.slice(1)}`, dir);
  return statSync(out).size;
}

async function sproutBuild(source: string, dataDir: string, out: string) {
  const phases: string[] = [];
  const { ms, value } = await timed(() =>
    buildImage({
      source,
      tag: 'localhost:5000/bench/ticket-ts:1',
      dataDir,
      output: { type: 'oci-layout', dir: out },
      // What `sprout build` passes for this folder (its function.yaml names the target).
      node: { frameworkDir, function: { target: 'ticket' } },
      runImage: (layout) => assembleRunImage(layout),
      logs: { line: (t) => (t.startsWith('===>') || /took|\d+(\.\d+)? ?m?s\b/.test(t) ? phases.push(t) : 0) },
    }),
  );
  return { ms, result: value, phases };
}

/** Digests of an image's layers by what made them (launch layers by name, then app and config). */
function layerDigests(r: Awaited<ReturnType<typeof buildImage>>): Record<string, string> {
  const short = (d: string) => d.slice(7, 19);
  return {
    ...Object.fromEntries(r.layers.map((l) => [l.name, short(l.layer.digest)])),
    app: short(r.app.digest),
    config: short(r.config.digest),
  };
}

const rows: Record<string, number[]> = {
  floorColdMs: [],
  sproutColdMs: [],
  sproutWarmMs: [],
  sproutPushMs: [],
  skopeoCopyMs: [],
  tscOnlyMs: [],
};
const digests: string[] = [];
const layersByRound: Record<string, string>[] = [];
// One data dir for every sprout build: its store (builder/shared) is what cold builds keep.
const dataDir = join(work, 'data');
const empty: Record<string, number> = {};
const loads: number[][] = [loadavg().map(r1)];
let imageBytes = 0;
let floorBytes = 0;
let coldPhases: string[] = [];
let warmPhases: string[] = [];
try {
  {
    // The first build of a machine: an empty data dir (the run image assembled, every layer gzipped).
    const f = await floorBuild(-1);
    rmSync(f.dir, { recursive: true, force: true });
    empty.floorMs = f.ms;
    const src = join(work, 'src-empty');
    cpSync(example, src, { recursive: true, filter: (p) => !/node_modules|dist/.test(p) });
    const first = await sproutBuild(src, dataDir, join(work, 'oci-empty'));
    empty.sproutMs = first.ms;
    digests.push(first.result.image.descriptor.digest);
    layersByRound.push(layerDigests(first.result));
    rmSync(join(work, 'oci-empty'), { recursive: true, force: true });
    loads.push(loadavg().map(r1));
    console.log(
      `empty data dir: floor ${r1(f.ms)} ms, sprout ${r1(first.ms)} ms, load ${loads.at(-1)!.join(' ')}`,
    );
  }
  rows.tscOnlyMs = []; // the priming floor's tsc-alone sample is not a round's
  for (let round = 0; round < ROUNDS; round++) {
    const src = join(work, `src-${round}`);
    cpSync(example, src, { recursive: true, filter: (p) => !/node_modules|dist/.test(p) });
    const out = join(work, `oci-${round}`);
    // Cold: no dependency cache for this image (see the top of the file).
    rmSync(join(dataDir, 'builder', 'cache'), { recursive: true, force: true });
    // Interleaved: the floor first on even rounds, sprout first on odd ones.
    const doFloor = async () => {
      const f = await floorBuild(round);
      rows.floorColdMs!.push(f.ms);
      if (round === 0) floorBytes = await floorSize(f.dir);
      rmSync(f.dir, { recursive: true, force: true });
    };
    const doSprout = async () => {
      const cold = await sproutBuild(src, dataDir, out);
      rows.sproutColdMs!.push(cold.ms);
      coldPhases = cold.phases;
      digests.push(cold.result.image.descriptor.digest);
      layersByRound.push(layerDigests(cold.result));
      const m = cold.result.image.manifest;
      imageBytes = m.config.size + m.layers.reduce((n, l) => n + l.size, 0);
      appendFileSync(join(src, 'src', 'seat.ts'), `// round ${round}\n`);
      const warm = await sproutBuild(src, dataDir, out);
      rows.sproutWarmMs!.push(warm.ms);
      warmPhases = warm.phases;
      return warm.result;
    };
    let built;
    if (round % 2 === 0) {
      await doFloor();
      built = await doSprout();
    } else {
      built = await doSprout();
      await doFloor();
    }
    // Push: every blob uploaded, sprout's client and skopeo in turn. A registry of its own each
    // round: skopeo remembers where it saw a blob (its blob-info cache) and would mount it from an
    // earlier round's repository instead of uploading it.
    const registry = await startRegistry();
    const push = async () => {
      const t = await timed(() =>
        pushImage(built.layout, built.image, `${registry.host}/bench/sprout-${round}:1`, { plainHttp: true }),
      );
      rows.sproutPushMs!.push(t.ms);
    };
    const copy = async () => {
      const t = await timed(() =>
        run('skopeo', [
          'copy',
          '--quiet',
          '--dest-tls-verify=false',
          `oci:${out}:${built.refName}`,
          `docker://${registry.host}/bench/skopeo-${round}:1`,
        ]),
      );
      rows.skopeoCopyMs!.push(t.ms);
    };
    try {
      if (round % 2 === 0) {
        await push();
        await copy();
      } else {
        await copy();
        await push();
      }
    } finally {
      await registry.close();
    }
    loads.push(loadavg().map(r1));
    console.log(
      `round ${round + 1}/${ROUNDS}: floor ${r1(rows.floorColdMs!.at(-1)!)} ms, cold ${r1(rows.sproutColdMs!.at(-1)!)} ms, ` +
        `warm ${r1(rows.sproutWarmMs!.at(-1)!)} ms, push ${r1(rows.sproutPushMs!.at(-1)!)} ms, skopeo ${r1(rows.skopeoCopyMs!.at(-1)!)} ms, load ${loads.at(-1)!.join(' ')}`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const med = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)])) as Record<
  string,
  number
>;
const ratios = {
  coldVsFloor: +(med.sproutColdMs! / med.floorColdMs!).toFixed(2),
  emptyDataDirVsFloor: +(empty.sproutMs! / empty.floorMs!).toFixed(2),
  // Under load tsc alone swings by seconds: the builder's own share of a rebuild shows best here.
  warmVsTscOnly: +(med.sproutWarmMs! / med.tscOnlyMs!).toFixed(2),
  pushVsSkopeo: +(med.sproutPushMs! / med.skopeoCopyMs!).toFixed(2),
  imageOverFloorMiB: r1((imageBytes - floorBytes) / MiB),
};
const targets = {
  coldVsFloor: ratios.coldVsFloor <= 1.3,
  warmRebuildUnder2s: med.sproutWarmMs! <= 2000,
  imageWithin10MiB: ratios.imageOverFloorMiB <= 10,
  pushVsSkopeo: ratios.pushVsSkopeo <= 1.2,
  sameDigest: new Set(digests).size === 1,
};
const result = {
  date: new Date().toISOString(),
  node: process.version,
  rounds: ROUNDS,
  loadAverage: loads,
  samples: Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, v.map(r1)])),
  cold: 'no dependency cache (builder/cache removed, new output layout); the machine-level store builder/shared (run image, layer blobs) kept',
  emptyDataDir: { floorMs: r1(empty.floorMs!), sproutMs: r1(empty.sproutMs!) },
  medians: med,
  imageMiB: r1(imageBytes / MiB),
  floorImageMiB: r1(floorBytes / MiB),
  ratios,
  targets,
  digests,
  layersByRound,
  coldPhases,
  warmPhases,
};
writeResult('builder', result);
console.log(
  JSON.stringify(
    {
      cold: result.cold,
      emptyDataDir: result.emptyDataDir,
      medians: med,
      imageMiB: result.imageMiB,
      floorImageMiB: result.floorImageMiB,
      ratios,
      targets,
    },
    null,
    2,
  ),
);
console.log('cold build phases:', coldPhases.join(' | '));
console.log('warm rebuild phases:', warmPhases.join(' | '));
if (!targets.sameDigest) console.log('layer digests by build:', JSON.stringify(layersByRound));
