// Collector end to end against syslog-ng and rsyslog (Debian's, run unprivileged with configs of our
// own, see bench/collector-syslog-peers.ts), same machine, same run: RFC 5424 over TCP (octet
// counting) and UDP in, one JSON line a message appended to a file out. Per receiver and round:
//   - TCP saturation: COUNT messages as fast as the receiver reads (warm-up first: 2 s of TCP at
//     saturation, 1 s of UDP at 20k msg/s); messages/s
//     until the last line is in the file, and messages per CPU-second of the receiver (all its
//     threads, /proc/PID/stat) = messages/s per core;
//   - fixed rates (TCP 10k and 50k msg/s, UDP 50k msg/s, 3 s each): p50/p99 delivery latency (the
//     send time in each message → the moment the bench, tailing the file, reads its line), CPU cores
//     busy; UDP: loss = 1 − lines / datagrams sent;
//   - UDP saturation: 150k msg/s offered for 2 s: lines/s delivered and loss;
//   - peak RSS (VmHWM) of the receiver over the round.
// Then once per receiver, a stalled output: the file is a FIFO the bench opens and never reads;
// TCP at saturation and UDP at 50k msg/s for STALL seconds; RSS sampled each second (bounded =
// flat, not growing with the messages offered).
// Rounds interleave the receivers (BENCH_ROUNDS, default 3); each figure is the median over rounds;
// the load average is recorded with them.
//
//   node --conditions=@sprout/source --import tsx bench/collector-syslog.ts [COUNT] [STALL]
//   BENCH_ONLY=sprout,syslog-ng limits the receivers (the results file is then left unchanged);
//   BENCH_STALL_ONLY=1 runs the stalled-output test alone; BENCH_SPROUT_BEFORE=PATH adds `sprout-before`, an earlier copy of the collector (see collector-syslog-peers.ts)
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad } from './collector-load-run.js';
import { freePort, percentile, rss, writeResult } from './lib.js';
import {
  cpuSeconds,
  peersRoot,
  startReceiver,
  targets,
  type Receiver,
  type Target,
} from './collector-syslog-peers.js';

const COUNT = Number(process.argv[2] ?? 1_000_000);
const STALL = Number(process.argv[3] ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const only = process.env.BENCH_ONLY?.split(',') as Target[] | undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** bench/collector-load.ts with `args`: what it sent. */
const load = (args: string[]) => runLoad<{ sent: number; bytes: number }>(args);

/**
 * Follows the output file from its start: counts lines and, while `latencies` is set, records for
 * each line the milliseconds between its `t=` (send time) and now. Polls every 2 ms.
 */
class Tail {
  lines = 0;
  latencies: number[] | undefined;
  private fd = -1;
  private rest = '';
  private timer: NodeJS.Timeout;
  private buf = Buffer.allocUnsafe(1 << 20);
  constructor(private readonly path: string) {
    this.timer = setInterval(() => this.read(), 2);
  }
  read(): void {
    if (this.fd < 0)
      try {
        this.fd = openSync(this.path, 'r'); // the receiver creates it with its first line
      } catch {
        return;
      }
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch {
        return; // EAGAIN (a FIFO with nothing in it)
      }
      if (n <= 0) return;
      if (!this.latencies) {
        for (let i = this.buf.indexOf(10); i >= 0 && i < n; i = this.buf.indexOf(10, i + 1)) this.lines++;
        continue;
      }
      const now = Date.now();
      const parts = (this.rest + this.buf.toString('latin1', 0, n)).split('\n');
      this.rest = parts.pop()!;
      for (const line of parts) {
        this.lines++;
        const at = line.indexOf(' t=');
        const t = at < 0 ? 0 : parseInt(line.slice(at + 3), 10);
        if (t > 0) this.latencies.push(now - t);
      }
    }
  }
  /** Resolves once `target` lines are in, or no new line came for `quietMs`. */
  async until(target: number, quietMs = 1500): Promise<void> {
    let last = this.lines;
    let since = Date.now();
    while (this.lines < target) {
      await sleep(5);
      if (this.lines !== last) [last, since] = [this.lines, Date.now()];
      else if (Date.now() - since > quietMs) return;
    }
  }
  close(): void {
    clearInterval(this.timer);
    if (this.fd >= 0) closeSync(this.fd);
  }
}

interface Phase {
  sent: number;
  delivered: number;
  seconds: number;
  msgsPerSec: number;
  cpuSeconds: number;
  msgsPerCpuSecond: number;
  cpuCores: number;
  lossPct?: number;
  p50Ms?: number;
  p99Ms?: number;
}

async function phase(r: Receiver, tail: Tail, args: string[], latency: boolean): Promise<Phase> {
  const before = tail.lines;
  tail.latencies = latency ? [] : undefined;
  const c0 = cpuSeconds(r.pid);
  const t0 = performance.now();
  const { sent } = await load(args);
  await tail.until(before + sent, args[0] === 'syslog-udp' ? 800 : 5000);
  const delivered = tail.lines - before;
  // Measured to the last line in (the quiet wait after an incomplete UDP run is not counted).
  const seconds = (performance.now() - t0) / 1000 - (delivered < sent ? 0.8 : 0);
  const cpu = cpuSeconds(r.pid) - c0;
  const lat = tail.latencies;
  tail.latencies = undefined;
  return {
    sent,
    delivered,
    seconds,
    msgsPerSec: delivered / seconds,
    cpuSeconds: cpu,
    msgsPerCpuSecond: delivered / Math.max(cpu, 0.01),
    cpuCores: cpu / seconds,
    ...(args[0] === 'syslog-udp' ? { lossPct: (100 * (sent - delivered)) / sent } : {}),
    ...(lat && lat.length ? { p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99) } : {}),
  };
}

async function round(target: Target): Promise<{ phases: Record<string, Phase>; peakRssMiB: number }> {
  const dir = mkdtempSync(join(tmpdir(), `syslog-bench-${target}-`));
  const r = await startReceiver(target, dir, 'out.log', { tcp: await freePort(), udp: await freePort() });
  const tail = new Tail(r.out);
  const tcp = String(r.tcpPort);
  const udp = String(r.udpPort);
  try {
    // Warm-up, not measured: both paths, so the JIT has compiled the UDP one too before it is measured.
    await load(['syslog-tcp', tcp, '0', '2s']);
    await load(['syslog-udp', udp, '20000', '1']);
    await tail.until(Infinity, 1000);
    const phases: Record<string, Phase> = {};
    phases['tcp saturation'] = await phase(r, tail, ['syslog-tcp', tcp, '0', String(COUNT)], false);
    phases['tcp 10k/s'] = await phase(r, tail, ['syslog-tcp', tcp, '10000', '3'], true);
    phases['tcp 50k/s'] = await phase(r, tail, ['syslog-tcp', tcp, '50000', '3'], true);
    phases['udp 50k/s'] = await phase(r, tail, ['syslog-udp', udp, '50000', '3'], true);
    phases['udp 150k/s offered'] = await phase(r, tail, ['syslog-udp', udp, '150000', '2'], false);
    return { phases, peakRssMiB: rss(r.pid).peakMiB };
  } finally {
    tail.close();
    await r.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The output is a FIFO nobody reads (the bench holds it open so writers do not fail). */
async function stalled(target: Target) {
  const dir = mkdtempSync(join(tmpdir(), `syslog-stall-${target}-`));
  execFileSync('mkfifo', ['-m', '666', join(dir, 'out.log')]);
  const reader = openSync(join(dir, 'out.log'), constants.O_RDONLY | constants.O_NONBLOCK);
  const r = await startReceiver(target, dir, 'out.log', { tcp: await freePort(), udp: await freePort() });
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(rss(r.pid).rssMiB), 1000);
  try {
    const [tcp, udp] = await Promise.all([
      load(['syslog-tcp', String(r.tcpPort), '0', `${STALL}s`]),
      load(['syslog-udp', String(r.udpPort), '50000', String(STALL)]),
    ]);
    await sleep(1000);
    return {
      tcpAccepted: tcp.sent,
      udpSent: udp.sent,
      rssMiBEachSecond: samples,
      peakRssMiB: rss(r.pid).peakMiB,
    };
  } finally {
    clearInterval(sampler);
    await r.stop();
    closeSync(reader);
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number | undefined, d = 0) =>
  n === undefined ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const load3 = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function main() {
  console.log(`peers from ${peersRoot()}`);
  const list = targets.filter((t) => !only || only.includes(t));
  const runs: Record<string, Array<{ phases: Record<string, Phase>; peakRssMiB: number }>> = {};
  const loads: number[][] = [loadavg()];
  for (let i = 0; i < (process.env.BENCH_STALL_ONLY ? 0 : ROUNDS); i++)
    for (const t of list) {
      const res = await round(t);
      (runs[t] ??= []).push(res);
      loads.push(loadavg());
      const p = res.phases;
      console.log(
        `round ${i + 1} ${t.padEnd(9)} tcp ${fmt(p['tcp saturation']!.msgsPerSec)} msg/s ${fmt(p['tcp saturation']!.msgsPerCpuSecond)}/cpu-s | ` +
          `p99 tcp10k ${fmt(p['tcp 10k/s']!.p99Ms)} tcp50k ${fmt(p['tcp 50k/s']!.p99Ms)} udp50k ${fmt(p['udp 50k/s']!.p99Ms)} ms | ` +
          `udp loss 50k ${fmt(p['udp 50k/s']!.lossPct, 2)}% 150k ${fmt(p['udp 150k/s offered']!.lossPct, 1)}% | rss ${res.peakRssMiB} MiB | load ${load3()}`,
      );
    }
  const summary: Record<string, Record<string, unknown>> = {};
  for (const t of list.filter((x) => runs[x])) {
    const rs = runs[t]!;
    const s: Record<string, unknown> = { peakRssMiB: median(rs.map((r) => r.peakRssMiB)) };
    for (const name of Object.keys(rs[0]!.phases)) {
      const keys = Object.keys(rs[0]!.phases[name]!) as Array<keyof Phase>;
      s[name] = Object.fromEntries(keys.map((k) => [k, median(rs.map((r) => r.phases[name]![k] as number))]));
    }
    summary[t] = s;
  }
  const stall: Record<string, unknown> = {};
  for (const t of list) {
    stall[t] = await stalled(t);
    console.log(`stalled output ${t.padEnd(9)} ${JSON.stringify(stall[t])}`);
  }
  const get = (t: Target, ph: string, k: keyof Phase) =>
    (summary[t]?.[ph] as Phase | undefined)?.[k] as number | undefined;
  const ratio = (peer: Target, ph: string, k: keyof Phase) => {
    const a = get('sprout', ph, k);
    const b = get(peer, ph, k);
    return a !== undefined && b !== undefined ? +(a / b).toFixed(2) : undefined;
  };
  const ratios = Object.fromEntries(
    list
      .filter((t) => t !== 'sprout')
      .map((peer) => [
        peer,
        {
          tcpMsgsPerSec: ratio(peer, 'tcp saturation', 'msgsPerSec'),
          tcpMsgsPerCore: ratio(peer, 'tcp saturation', 'msgsPerCpuSecond'),
          udpMsgsPerCore50k: ratio(peer, 'udp 50k/s', 'msgsPerCpuSecond'),
        },
      ]),
  );
  console.log('\nmedian of rounds');
  for (const t of list) {
    const g = (ph: string, k: keyof Phase, d = 0) => fmt(get(t, ph, k), d);
    console.log(
      `${t.padEnd(9)} tcp sat ${g('tcp saturation', 'msgsPerSec')} msg/s, ${g('tcp saturation', 'msgsPerCpuSecond')} msg/cpu-s | ` +
        `tcp 10k p50/p99 ${g('tcp 10k/s', 'p50Ms')}/${g('tcp 10k/s', 'p99Ms')} ms cpu ${g('tcp 10k/s', 'cpuCores', 2)} | ` +
        `tcp 50k p50/p99 ${g('tcp 50k/s', 'p50Ms')}/${g('tcp 50k/s', 'p99Ms')} ms cpu ${g('tcp 50k/s', 'cpuCores', 2)} | ` +
        `udp 50k loss ${g('udp 50k/s', 'lossPct', 2)}% p99 ${g('udp 50k/s', 'p99Ms')} ms cpu ${g('udp 50k/s', 'cpuCores', 2)} | ` +
        `udp 150k ${g('udp 150k/s offered', 'msgsPerSec')} msg/s loss ${g('udp 150k/s offered', 'lossPct', 1)}% | rss ${fmt(summary[t]!.peakRssMiB as number)} MiB`,
    );
  }
  console.log(`ratios sprout/peer ${JSON.stringify(ratios)} | load ${load3()}`);
  if (only) return console.log('(BENCH_ONLY set: results file left unchanged)');
  writeResult('collector-syslog', {
    date: new Date().toISOString(),
    node: process.version,
    method: `each receiver its own process, fresh per round; ${ROUNDS} interleaved rounds; figures = median over rounds; TCP saturation ${COUNT} messages after a warm-up (2 s TCP at saturation, 1 s UDP at 20k/s); CPU = the receiver's utime+stime`,
    loadAverage: loads,
    summary,
    ratios,
    stalledOutput: { seconds: STALL, ...stall },
    runs,
  });
  console.log('written bench/results/collector-syslog.json');
}

await main();
