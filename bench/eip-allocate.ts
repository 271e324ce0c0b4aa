// EIP allocation at scale with persistence on: 50,000 services across 100 namespaces and 50 pools.
// Figures per variant: allocations/s, p50/p99 of what one caller waits, peak RSS, and the time to
// re-open the store (every allocation is checked to be on disk after re-opening).
//
// Variants, each in its own process, run in interleaved rounds (medians reported, since the
// machine is shared):
//   single        allocate(), one transaction per allocation
//   batch         allocateMany() bursts of 100, one transaction per burst
//   async         allocateAsync() with 100 callers in flight (group commit: one transaction per tick)
//   async-power   the same with durability 'power' (synchronous=FULL: an fsync per commit)
//   single-power  allocate() with durability 'power', on a fiftieth of the services (an fsync each)
// Peers in the same run: the storage floor, bare better-sqlite3 with the same pragmas writing one
// row per service (key, ip, pool) and no allocation logic: one transaction per row, 100 rows per
// transaction, and the same with synchronous=FULL. Reference (published, not run here): Cilium
// LB-IPAM's scale test, 50,000 services in about 3 minutes (~280/s).
//
//   node --conditions=@sprout/source --import tsx bench/eip-allocate.ts [services] [rounds]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createLogger } from '@sprout/observe';
import { createEipManager } from '@sprout/eip';

const SERVICES = Number(process.argv[2] ?? 50_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const NAMESPACES = 100;
const POOLS = 50;
const CILIUM_PER_S = 50_000 / 180;
const BATCH = 100;
const TARGET = 20_000;

interface Figures {
  services: number;
  ms: number;
  perSecond: number;
  /** What one caller waits for its allocation (a burst's callers all wait for the burst). */
  p50Ms: number;
  p99Ms: number;
  /** Peak resident set of the process. */
  maxRssMiB: number;
  reopenMs?: number;
  persisted?: number;
  pending?: number;
}

function pools(): string {
  const docs: string[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    docs.push(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ns-${n}, labels: {tier: t${n % 10}}}`);
  }
  // Pool p serves two namespaces by name and, at a lower priority, one label tier: /21s, 2,046 usable each.
  for (let p = 0; p < POOLS; p++) {
    docs.push(`apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: pool-${p}}
spec:
  address: 10.${100 + Math.floor(p / 30)}.${(p % 30) * 8}.0/21
  protocol: local
  priority: ${p % 3}
  namespaces: [ns-${2 * p}, ns-${2 * p + 1}]
  namespaceSelector: {tier: t${p % 10}}`);
  }
  return docs.join('\n---\n');
}

function figures(count: number, lat: Float64Array, ms: number): Figures {
  const sorted = Array.from(lat).sort((x, y) => x - y);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  return {
    services: count,
    ms,
    perSecond: (count / ms) * 1000,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

async function sprout(dir: string, mode: 'single' | 'batch' | 'async', count: number, power: boolean) {
  const logger = createLogger({ level: 'error' });
  const eip = createEipManager({ dataDir: dir, logger, durability: power ? 'power' : 'process' });
  eip.apply(pools());
  const lat = new Float64Array(count);
  let pending = 0;
  const req = (i: number) => ({
    namespace: `ns-${i % NAMESPACES}`,
    name: `svc-${i}`,
    ports: [{ port: 80, protocol: 'TCP' as const }],
  });
  const step = mode === 'single' ? 1 : BATCH;
  const t0 = performance.now();
  for (let i = 0; i < count; i += step) {
    const n = Math.min(step, count - i);
    const a = performance.now();
    if (mode === 'single') {
      if (eip.allocate(req(i)).status !== 'allocated') pending++;
      lat[i] = performance.now() - a;
    } else if (mode === 'batch') {
      const reqs = Array.from({ length: n }, (_, k) => req(i + k));
      for (const s of eip.allocateMany(reqs)) if (s.status !== 'allocated') pending++;
      lat.fill(performance.now() - a, i, i + n);
    } else {
      await Promise.all(
        Array.from({ length: n }, (_, k) =>
          eip.allocateAsync(req(i + k)).then((s) => {
            lat[i + k] = performance.now() - a;
            if (s.status !== 'allocated') pending++;
          }),
        ),
      );
    }
  }
  const ms = performance.now() - t0;
  const out = figures(count, lat, ms);
  eip.close();
  // Re-open: every allocation is on disk, and this is how long a restart takes to recover them.
  const r0 = performance.now();
  const again = createEipManager({ dataDir: dir, logger });
  const reopenMs = performance.now() - r0;
  const persisted = again.services().filter((s) => s.status === 'allocated').length;
  again.close();
  return { ...out, reopenMs, persisted, pending };
}

function peer(dir: string, batch: number, count: number, power: boolean): Figures {
  const db = new Database(join(dir, 'peer.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${power ? 'FULL' : 'NORMAL'}`);
  db.pragma('wal_autocheckpoint = 10000');
  db.exec('CREATE TABLE a (key TEXT PRIMARY KEY, ip TEXT NOT NULL, pool TEXT NOT NULL)');
  const ins = db.prepare('INSERT INTO a (key, ip, pool) VALUES (?, ?, ?)');
  const tx = db.transaction((i: number, n: number) => {
    for (let k = i; k < i + n; k++)
      ins.run(`ns-${k % NAMESPACES}/svc-${k}`, `10.0.${k >> 8}.${k & 255}`, 'p');
  });
  const lat = new Float64Array(count);
  const t0 = performance.now();
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    const a = performance.now();
    tx.immediate(i, n);
    lat.fill(performance.now() - a, i, i + n);
  }
  const out = figures(count, lat, performance.now() - t0);
  db.close();
  return out;
}

const VARIANTS = {
  'peer-single': () => (dir: string) => peer(dir, 1, SERVICES, false),
  single: () => (dir: string) => sprout(dir, 'single', SERVICES, false),
  'peer-batch': () => (dir: string) => peer(dir, BATCH, SERVICES, false),
  batch: () => (dir: string) => sprout(dir, 'batch', SERVICES, false),
  async: () => (dir: string) => sprout(dir, 'async', SERVICES, false),
  'peer-batch-power': () => (dir: string) => peer(dir, BATCH, SERVICES, true),
  'async-power': () => (dir: string) => sprout(dir, 'async', SERVICES, true),
  'peer-single-power': () => (dir: string) => peer(dir, 1, Math.ceil(SERVICES / 50), true),
  'single-power': () => (dir: string) => sprout(dir, 'single', Math.ceil(SERVICES / 50), true),
} as const;
type Variant = keyof typeof VARIANTS;

/** Runs one variant in a fresh process (its own heap and RSS) and returns its figures. */
function child(variant: Variant): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), String(SERVICES), '1', variant],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as Figures) : reject(new Error(`${variant} exited ${code}`)),
    );
  });
}

const only = process.argv[4] as Variant | undefined;
if (only) {
  const dir = mkdtempSync(join(tmpdir(), `sprout-bench-eip-${only}-`));
  try {
    process.stdout.write(JSON.stringify(await VARIANTS[only]()(dir)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const load = (l = loadavg()) => l.map((x) => x.toFixed(2)).join(' ');
const loadStart = loadavg();
const runs = new Map<Variant, Figures[]>();
for (let r = 0; r < ROUNDS; r++) {
  for (const v of Object.keys(VARIANTS) as Variant[]) {
    const f = await child(v);
    runs.set(v, [...(runs.get(v) ?? []), f]);
    process.stderr.write(`round ${r + 1}/${ROUNDS} ${v}: ${Math.round(f.perSecond)}/s (load ${load()})\n`);
  }
}
const loadEnd = loadavg();
const med = new Map(
  [...runs].map(([v, fs]) => {
    const m = (k: keyof Figures) => median(fs.map((f) => f[k] ?? 0));
    return [
      v,
      {
        services: fs[0]!.services,
        perSecond: m('perSecond'),
        p50Ms: m('p50Ms'),
        p99Ms: m('p99Ms'),
        maxRssMiB: m('maxRssMiB'),
        ...(fs[0]!.reopenMs !== undefined ? { reopenMs: m('reopenMs') } : {}),
        ...(fs[0]!.persisted !== undefined
          ? {
              persisted: Math.min(...fs.map((f) => f.persisted!)),
              pending: Math.max(...fs.map((f) => f.pending!)),
            }
          : {}),
        perSecondEachRound: fs.map((f) => Math.round(f.perSecond)),
      },
    ];
  }),
);
const g = (v: Variant) => med.get(v)!;
const f = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const ratio = (a: Variant, b: Variant) => g(a).perSecond / g(b).perSecond;
const LABELS: Record<Variant, string> = {
  single: 'sprout allocate(), 1 tx each',
  batch: `sprout allocateMany(${BATCH})`,
  async: `sprout allocateAsync x${BATCH} (group commit)`,
  'async-power': `sprout allocateAsync x${BATCH}, power`,
  'single-power': 'sprout allocate(), power',
  'peer-single': 'peer: SQLite 1 row/tx',
  'peer-batch': `peer: SQLite ${BATCH} rows/tx`,
  'peer-batch-power': `peer: SQLite ${BATCH} rows/tx, FULL`,
  'peer-single-power': 'peer: SQLite 1 row/tx, FULL',
};
console.log(
  `EIP allocation, ${f(SERVICES)} services / ${NAMESPACES} namespaces / ${POOLS} pools, persisted; medians of ${ROUNDS} interleaved rounds; load average ${load(loadStart)} -> ${load(loadEnd)}`,
);
for (const v of Object.keys(VARIANTS) as Variant[]) {
  const m = g(v);
  console.log(
    `  ${LABELS[v].padEnd(40)} ${f(m.perSecond).padStart(8)}/s  p50 ${f(m.p50Ms, 3)} ms  p99 ${f(m.p99Ms, 3)} ms  max RSS ${f(m.maxRssMiB)} MiB` +
      (m.reopenMs !== undefined ? `  reopen ${f(m.reopenMs)} ms` : '') +
      (m.services !== SERVICES ? `  (${f(m.services)} services)` : '') +
      `  [${m.perSecondEachRound.map((x) => f(x)).join(', ')}]`,
  );
}
const ratios = {
  singleVsPeerSingle: ratio('single', 'peer-single'),
  batchVsPeerBatch: ratio('batch', 'peer-batch'),
  asyncVsPeerBatch: ratio('async', 'peer-batch'),
  asyncPowerVsPeerBatchPower: ratio('async-power', 'peer-batch-power'),
  singlePowerVsPeerSinglePower: ratio('single-power', 'peer-single-power'),
  singleVsCilium: g('single').perSecond / CILIUM_PER_S,
  asyncVsCilium: g('async').perSecond / CILIUM_PER_S,
};
console.log(
  `  ratios: single/peer-single ${f(ratios.singleVsPeerSingle, 2)}, batch/peer-batch ${f(ratios.batchVsPeerBatch, 2)}, async/peer-batch ${f(ratios.asyncVsPeerBatch, 2)}, async-power/peer-batch-FULL ${f(ratios.asyncPowerVsPeerBatchPower, 2)}, single-power/peer-single-FULL ${f(ratios.singlePowerVsPeerSinglePower, 2)}`,
);
console.log(
  `  vs Cilium's published ~${f(CILIUM_PER_S)}/s: single ${f(ratios.singleVsCilium)}x, group commit ${f(ratios.asyncVsCilium)}x; target ${f(TARGET)}/s: ` +
    (['single', 'batch', 'async', 'async-power'] as Variant[])
      .map((v) => `${v} ${g(v).perSecond >= TARGET ? 'met' : 'NOT met'}`)
      .join(', '),
);
const lost = (['single', 'batch', 'async', 'async-power', 'single-power'] as Variant[]).filter(
  (v) => g(v).persisted !== g(v).services || g(v).pending !== 0,
);
console.log(
  `  on disk after re-open: ${lost.length ? `MISSING in ${lost.join(', ')}` : 'every allocation, every run'}`,
);
const out = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, 'eip-allocate.json'),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      services: SERVICES,
      namespaces: NAMESPACES,
      pools: POOLS,
      rounds: ROUNDS,
      loadAverage: { start: loadStart, end: loadEnd },
      variants: Object.fromEntries(med),
      peer: 'bare better-sqlite3, WAL, same pragmas, one (key, ip, pool) row per service, no allocation logic',
      reference: { name: 'Cilium LB-IPAM published scale test', perSecond: CILIUM_PER_S },
      ratios,
      note: 'shared 2-core machine; medians of interleaved rounds; see loadAverage',
    },
    null,
    2,
  ) + '\n',
);
