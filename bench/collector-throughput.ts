// Collector throughput next to a bare Node baseline in the same run (the practical ceiling: socket
// read + split + JSON.parse, or protobufjs decode, and nothing else), for tcp json → null, syslog
// udp → null, http json → null and otlp logs → null. Figures: records/s, MB/s, CPU (cores busy in
// the measured process), peak RSS of that process; ratio = collector / baseline.
//
// Every measured side runs in a child process of its own (this file with `serve SCENARIO KIND`), so
// no scenario inherits another's heap: CPU is that process's own (process.cpuUsage over the measured
// window) and peak RSS is its getrusage maximum (process.resourceUsage().maxRSS), start-up included.
// Load comes from a third process (bench/collector-load.ts); each process first takes an unmeasured
// warm-up fifth of the load so the JIT has compiled its code. Rounds alternate baseline and collector
// (BENCH_ROUNDS, default 5); each side's row is its MEDIAN round by records/s (every round is kept
// in the JSON); records per CPU-second is the median over the rounds of each side, taken on its own.
// The machine is shared: noisy, so the load average is recorded with the figures.
//
//   node --conditions=@sprout/source --import tsx bench/collector-throughput.ts [tcpLines] [udpRate]
//   BENCH_ONLY=otlp|tcp|http|syslog  limits the scenarios; BENCH_CPU_PROF=DIR profiles both sides;
//   BENCH_COLLECTOR_FLAGS="--max-semi-space-size=32" passes node flags to the collector side only;
//   The collector measured is the built package (packages/collector/dist, what `sprout` runs; built
//   first with `tsc -b`), not tsx's transpile of src/ (which names every closure it makes).
//   BENCH_COLLECTOR_SOURCE=1 measures src/ through tsx instead; BENCH_COLLECTOR_MODULE=PATH another copy (its dist/index.js or
//   src/index.ts, e.g. an earlier commit's);
//   BENCH_OUT=FILE also writes the results (of BENCH_ONLY's scenario too) to FILE
import { execFileSync, fork } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Collector from '@sprout/collector';
import protobuf from 'protobufjs';
import { runLoad } from './collector-load-run.js';

type Scenario = 'tcp' | 'http' | 'otlp' | 'syslog';
type Kind = 'baseline' | 'collector';

const root = fileURLToPath(new URL('..', import.meta.url));
const self = fileURLToPath(import.meta.url);
const PER = 100; // records per HTTP body

// ---------------------------------------------------------------------------------------------
// Child side: one server (collector or baseline) for one scenario, measured from 'start' to done.
// ---------------------------------------------------------------------------------------------

type ToChild =
  | { t: 'wait'; atLeast?: number; ms?: number }
  | { t: 'start' }
  | { t: 'finish'; expect?: number; settleMs?: number };
export interface Measured {
  count: number;
  seconds: number;
  cpuCores: number;
  cpuSeconds: number;
  peakRssMb: number;
}

async function serve(scenario: Scenario, kind: Kind): Promise<void> {
  let n = 0;
  let port: number;
  let close: () => Promise<void>;
  if (kind === 'collector') {
    const { createCollector, parseConfig } = (await import(collectorModule())) as typeof Collector;
    const { createLogger } = await import('@sprout/observe');
    const input = {
      tcp: '{ name: tcp, listen: 127.0.0.1, port: 0, tag: bench }',
      http: '{ name: http, listen: 127.0.0.1, port: 0, tag: bench }',
      otlp: '{ name: opentelemetry, listen: 127.0.0.1, port: 0, tag: bench }',
      syslog: '{ name: syslog, mode: udp, listen: 127.0.0.1, port: 0, tag: bench, receive_buffer_size: 4M }',
    }[scenario];
    const c = createCollector(
      parseConfig(
        `service: { flush: 0.2 }\npipeline:\n  inputs:\n    - ${input}\n  outputs:\n    - { name: 'null', match: '*' }\n`,
      ),
      {
        logger: createLogger({ level: 'warn' }),
        outputOverride: () => ({ write: async (r) => void (n += r.length) }),
      },
    );
    await c.start();
    port = c.inputs()[0]!.address!.port!;
    close = () => c.close();
  } else if (scenario === 'tcp') {
    const server = createServer((s) => {
      let tail = '';
      s.on('data', (d: Buffer) => {
        const parts = (tail + d.toString('utf8')).split('\n');
        tail = parts.pop()!;
        for (const p of parts)
          if (p) {
            JSON.parse(p);
            n++;
          }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    close = () => new Promise((r) => server.close(() => r()));
  } else if (scenario === 'syslog') {
    const sock = createSocket({ type: 'udp4', recvBufferSize: 4 * 2 ** 20 });
    sock.on('message', (m) => {
      if (m.toString('utf8').split(' ').length > 1) n++;
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    port = sock.address().port;
    close = async () => void sock.close();
  } else {
    const decode =
      scenario === 'http'
        ? (b: Buffer) => (JSON.parse(b.toString('utf8')) as unknown[]).length
        : (() => {
            const T = otlpBaselineType();
            // Decode only (no conversion to plain objects): the floor for any protobuf receiver.
            return (b: Buffer) =>
              (
                T.decode(b) as unknown as {
                  resourceLogs: Array<{ scopeLogs: Array<{ logRecords: unknown[] }> }>;
                }
              ).resourceLogs[0]!.scopeLogs[0]!.logRecords.length;
          })();
    const server = createHttpServer(async (req, res) => {
      const parts: Buffer[] = [];
      for await (const c of req) parts.push(c as Buffer);
      n += decode(Buffer.concat(parts));
      res.writeHead(201).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    close = () => new Promise((r) => (server.closeAllConnections(), server.close(() => r())));
  }

  let t0 = 0;
  let n0 = 0;
  let c0 = process.cpuUsage();
  const send = (m: unknown) => process.send!(m);
  process.on('message', async (m: ToChild) => {
    const end = Date.now() + 120_000;
    if (m.t === 'wait') {
      // End of the warm-up: everything sent so far is in (or, for UDP, a pause).
      if (m.atLeast !== undefined)
        while (n < m.atLeast && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
      else await new Promise((r) => setTimeout(r, m.ms ?? 0));
      send({ t: 'waited' });
      return;
    }
    if (m.t === 'start') {
      t0 = performance.now();
      n0 = n;
      c0 = process.cpuUsage();
      send({ t: 'started' });
      return;
    }
    if (m.expect !== undefined)
      while (n - n0 < m.expect && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
    else await new Promise((r) => setTimeout(r, m.settleMs ?? 0));
    const seconds = (performance.now() - t0) / 1000 - (m.settleMs ?? 0) / 1000;
    const c = process.cpuUsage(c0);
    const cpuSeconds = (c.user + c.system) / 1e6;
    const out: Measured = {
      count: n - n0,
      seconds,
      cpuSeconds,
      cpuCores: cpuSeconds / ((performance.now() - t0) / 1000),
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
    await close();
    send({ t: 'done', ...out });
    process.disconnect();
  });
  send({ t: 'ready', port });
}

/** What the collector side imports: the built package unless told otherwise (see the header). */
function collectorModule(): string {
  const mod = process.env.BENCH_COLLECTOR_MODULE;
  if (mod) return pathToFileURL(mod).href;
  if (process.env.BENCH_COLLECTOR_SOURCE === '1') return '@sprout/collector';
  return pathToFileURL(join(root, 'packages/collector/dist/index.js')).href;
}

function otlpBaselineType(): protobuf.Type {
  // The OTLP logs subset of the schema, protobufjs, nothing more.
  return protobuf
    .parse(
      `syntax = "proto3"; package b;
    message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
    message KeyValue { string key = 1; AnyValue value = 2; }
    message Resource { repeated KeyValue attributes = 1; }
    message LogRecord { fixed64 time_unix_nano = 1; string severity_text = 3; AnyValue body = 5; repeated KeyValue attributes = 6; }
    message ScopeLogs { repeated LogRecord log_records = 2; }
    message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
    message Req { repeated ResourceLogs resource_logs = 1; }`,
    )
    .root.lookupType('b.Req');
}

// ---------------------------------------------------------------------------------------------
// Parent side: orchestrates rounds, load and the report.
// ---------------------------------------------------------------------------------------------

interface Round extends Measured {
  recordsPerSec: number;
  mbPerSec: number;
  sent?: number;
  lossPct?: number;
}

async function round(
  scenario: Scenario,
  kind: Kind,
  files: Files,
  tcpLines: number,
  udpRate: number,
): Promise<Round> {
  const child = fork(self, ['serve', scenario, kind], {
    cwd: root,
    execArgv: [
      '--conditions=@sprout/source',
      '--import',
      'tsx',
      // BENCH_CPU_PROF=DIR: V8 CPU profiles of every measured process (DIR/baseline, DIR/collector), for `node --cpu-prof` analysis.
      // BENCH_COLLECTOR_FLAGS: extra node flags for the collector side only (V8 tuning experiments).
      ...(kind === 'collector' && process.env.BENCH_COLLECTOR_FLAGS
        ? process.env.BENCH_COLLECTOR_FLAGS.split(' ')
        : []),
      ...(process.env.BENCH_CPU_PROF
        ? ['--cpu-prof', '--cpu-prof-dir', join(process.env.BENCH_CPU_PROF, kind)]
        : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (t: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMsg = (m: Record<string, unknown>) => {
        if (m.t !== t) return;
        child.off('message', onMsg);
        resolve(m);
      };
      child.on('message', onMsg);
      child.once('exit', (code) => reject(new Error(`${kind} ${scenario} exited ${code} before '${t}'`)));
    });
  const { port } = (await next('ready')) as { port: number };
  const start = async () => {
    const started = next('started');
    child.send({ t: 'start' });
    await started;
  };
  // Warm-up (not measured): a fifth of the load, so both sides are measured with their code
  // optimised by the JIT rather than while it is still compiling.
  const warm = await drive(scenario, port, files, Math.ceil(tcpLines / 5), udpRate, 1, async () => undefined);
  const waited = next('waited');
  child.send({
    t: 'wait',
    ...(warm.expect !== undefined ? { atLeast: warm.expect } : { ms: warm.settleMs }),
  });
  await waited;
  const { expect, settleMs, bytes, sent } = await drive(scenario, port, files, tcpLines, udpRate, 0, start);
  const done = next('done');
  child.send({ t: 'finish', expect, settleMs });
  const m = (await done) as unknown as Measured;
  await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
  const records = sent !== undefined ? m.count : expect!;
  const received = sent !== undefined ? Math.min(m.count, sent) : expect!;
  return {
    count: m.count,
    seconds: m.seconds,
    cpuSeconds: m.cpuSeconds,
    cpuCores: m.cpuCores,
    peakRssMb: m.peakRssMb,
    recordsPerSec: records / m.seconds,
    mbPerSec: (bytes * (received / (sent ?? expect!))) / 2 ** 20 / m.seconds,
    ...(sent !== undefined ? { sent, lossPct: (100 * (sent - received)) / sent } : {}),
  };
}

interface Files {
  json: string;
  otlp: string;
}

/** One load run against `port`; `seconds` 0 = the scenario's measured length (udp 3 s, http 5 s). */
async function drive(
  scenario: Scenario,
  port: number,
  files: Files,
  tcpLines: number,
  udpRate: number,
  seconds: number,
  onStart: () => Promise<void>,
): Promise<{ expect?: number; settleMs?: number; bytes: number; sent?: number }> {
  if (scenario === 'tcp') {
    const r = await runLoad(['tcp', String(port), String(tcpLines)], onStart);
    return { expect: r.lines!, bytes: r.bytes! };
  }
  if (scenario === 'syslog') {
    const r = await runLoad(['udp', String(port), String(udpRate), String(seconds || 3)], onStart);
    return { sent: r.sent!, bytes: r.bytes!, settleMs: 600 };
  }
  const file = scenario === 'http' ? files.json : files.otlp;
  const r = await runLoad(
    [
      'http',
      String(port),
      String(seconds || 5),
      file,
      scenario === 'http' ? 'application/json' : 'application/x-protobuf',
      scenario === 'http' ? '/bench' : '/v1/logs',
    ],
    onStart,
  );
  if (r.non2xx) throw new Error(`${r.non2xx} non-2xx answers`);
  return { expect: r.requests! * PER, bytes: r.requests! * statSync(file).size };
}

function writeBodies(dir: string): Files {
  const json = join(dir, 'http.json');
  writeFileSync(
    json,
    JSON.stringify(
      Array.from({ length: PER }, (_, i) => ({
        seq: i,
        level: 'info',
        msg: 'GET /api/orders 200',
        user: `u${i}`,
      })),
    ),
  );
  const T = otlpBaselineType();
  const req = {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] },
        scopeLogs: [
          {
            logRecords: Array.from({ length: PER }, (_, i) => ({
              timeUnixNano: '1700000000000000000',
              severityText: 'INFO',
              body: { stringValue: `GET /api/orders 200 seq=${i}` },
              attributes: [{ key: 'user', value: { stringValue: `u${i}` } }],
            })),
          },
        ],
      },
    ],
  };
  const otlp = join(dir, 'otlp.bin');
  writeFileSync(otlp, T.encode(T.fromObject(req)).finish());
  return { json, otlp };
}

const fmt = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const median = (rs: Round[]) =>
  [...rs].sort((a, b) => a.recordsPerSec - b.recordsPerSec)[Math.floor(rs.length / 2)]!;
const perCpu = (r: Round) => r.count / Math.max(r.cpuSeconds, 1e-3);
/** Median over the rounds of records per CPU-second (its own median: less sensitive to other load). */
const medianPerCpu = (rs: Round[]) => rs.map(perCpu).sort((a, b) => a - b)[Math.floor(rs.length / 2)]!;
/** Each round's collector / baseline records per CPU-second (rounds alternate), sorted. */
const roundRatios = (runs: Record<Kind, Round[]>) =>
  runs.collector.map((c, i) => perCpu(c) / perCpu(runs.baseline[i]!)).sort((a, b) => a - b);

async function main() {
  if (!process.env.BENCH_COLLECTOR_MODULE && process.env.BENCH_COLLECTOR_SOURCE !== '1') {
    // the built collector is measured: build it from the current source first (quick when fresh)
    execFileSync(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/collector'],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );
  }
  const tcpLines = Number(process.argv[2] ?? 2_000_000);
  const udpRate = Number(process.argv[3] ?? 50_000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const only = process.env.BENCH_ONLY;
  const dir = mkdtempSync(join(tmpdir(), 'collector-bench-'));
  const files = writeBodies(dir);
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    collector:
      process.env.BENCH_COLLECTOR_MODULE ??
      (process.env.BENCH_COLLECTOR_SOURCE === '1' ? 'src through tsx' : 'packages/collector/dist'),
    method: `each side in its own child process; ${rounds} alternating rounds; row = median round by records/s; peak RSS = that process's maxRSS`,
    loadAverageAtStart: loadavg(),
  };
  const names: Record<Scenario, string> = {
    tcp: 'tcp json → null',
    http: 'http json → null',
    otlp: 'otlp logs → null',
    syslog: `syslog udp → null @ ${udpRate}/s`,
  };
  for (const scenario of ['tcp', 'http', 'otlp', 'syslog'] as const) {
    if (only && scenario !== only) continue;
    const runs: Record<Kind, Round[]> = { baseline: [], collector: [] };
    for (let i = 0; i < rounds; i++)
      for (const k of ['baseline', 'collector'] as const)
        runs[k].push(await round(scenario, k, files, tcpLines, udpRate));
    const base = median(runs.baseline);
    const col = median(runs.collector);
    const ratio = col.recordsPerSec / base.recordsPerSec;
    const cpuRatio = medianPerCpu(runs.collector) / medianPerCpu(runs.baseline);
    const maxRss = (k: Kind) => Math.max(...runs[k].map((r) => r.peakRssMb));
    const perRound = roundRatios(runs);
    const perRoundNote = `rounds ${fmt(perRound[0]!, 2)}–${fmt(perRound.at(-1)!, 2)} (median ${fmt(perRound[Math.floor(perRound.length / 2)]!, 2)})`;
    const lossNote =
      scenario === 'syslog'
        ? ` loss ${runs.collector.map((r) => fmt(r.lossPct!, 2)).join('/')}% vs ${runs.baseline.map((r) => fmt(r.lossPct!, 2)).join('/')}%`
        : '';
    results[names[scenario]] = {
      baseline: base,
      collector: col,
      ratio,
      recordsPerCpuSecond: {
        baseline: medianPerCpu(runs.baseline),
        collector: medianPerCpu(runs.collector),
        ratio: cpuRatio,
        roundRatios: perRound,
      },
      peakRssMbMax: { baseline: maxRss('baseline'), collector: maxRss('collector') },
      loadAverage: loadavg(),
      runs,
    };
    console.log(
      `${names[scenario].padEnd(26)} collector ${fmt(col.recordsPerSec).padStart(9)} rec/s ${fmt(col.mbPerSec, 1).padStart(5)} MB/s cpu ${fmt(col.cpuCores, 2)} rss ${fmt(maxRss('collector'))} MB | baseline ${fmt(base.recordsPerSec).padStart(9)} rec/s ${fmt(base.mbPerSec, 1).padStart(5)} MB/s cpu ${fmt(base.cpuCores, 2)} rss ${fmt(maxRss('baseline'))} MB | ratio ${fmt(ratio, 2)}x, per cpu-second ${fmt(cpuRatio, 2)}x, ${perRoundNote}${lossNote} | load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  // BENCH_OUT: these results (BENCH_ONLY's too) to a file of their own, e.g. for a before/after.
  const out = process.env.BENCH_OUT;
  if (out) writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  if (only) return console.log('(BENCH_ONLY set: results file left unchanged)');
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(
    join(root, 'bench/results/collector-throughput.json'),
    JSON.stringify(results, null, 2) + '\n',
  );
  console.log('written bench/results/collector-throughput.json');
}

if (process.argv[2] === 'serve') await serve(process.argv[3] as Scenario, process.argv[4] as Kind);
else await main();
