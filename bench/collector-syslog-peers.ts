// The three receivers of bench/collector-syslog.ts, each started as its own unprivileged process on
// 127.0.0.1 with a config of our own: RFC 5424 over TCP (octet counting or LF, detected) and UDP in,
// one JSON object a line appended to a file out. syslog-ng and rsyslog come from Debian, extracted
// (not installed) by scripts/syslog-peers.sh: no system config, no system socket, own pid and
// persist files. All three parse the RFC 5424 header into fields and write them as JSON, so each
// does the same work per message.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './lib.js';

export type Target = 'sprout' | 'sprout-before' | 'syslog-ng' | 'rsyslog';
/**
 * `sprout-before` runs only with BENCH_SPROUT_BEFORE=PATH, the src/index.ts of an earlier copy of
 * the collector inside the checkout (e.g. `git archive COMMIT packages/collector/src` extracted
 * under .sprout/cache/), so a change is measured against its base in the same run.
 */
export const targets: Target[] = [
  'sprout',
  ...(process.env.BENCH_SPROUT_BEFORE ? (['sprout-before'] as const) : []),
  'syslog-ng',
  'rsyslog',
];

export interface Receiver {
  target: Target;
  pid: number;
  tcpPort: number;
  udpPort: number;
  out: string;
  stop(): Promise<void>;
}

/** Where scripts/syslog-peers.sh extracted the Debian packages (fetched on first use). */
export function peersRoot(): string {
  return execFileSync(join(root, 'scripts/syslog-peers.sh'), { encoding: 'utf8' }).trim().split('\n').at(-1)!;
}

/** Sprout's collector: the same config a user would write (flush 50 ms for latency). */
const sproutConfig = (
  tcp: number,
  udp: number,
  dir: string,
  out: string,
) => `service: { flush: 0.05, log_level: warn }
pipeline:
  inputs:
    - { name: syslog, mode: tcp, listen: 127.0.0.1, port: ${tcp}, tag: bench }
    - { name: syslog, mode: udp, listen: 127.0.0.1, port: ${udp}, tag: bench, receive_buffer_size: 4M }
  outputs:
    - { name: file, match: '*', path: ${dir}, file: ${out}, format: json_lines }
`;

const syslogNgConfig = (tcp: number, udp: number, out: string) => `@version: 3.38
options { stats-freq(0); use-dns(no); dns-cache(no); keep-hostname(yes); chain-hostnames(no); log-msg-size(65536); };
source s_net {
  syslog(ip(127.0.0.1) port(${tcp}) transport("tcp") max-connections(64));
  syslog(ip(127.0.0.1) port(${udp}) transport("udp") so-rcvbuf(4194304));
};
destination d_file { file("${out}" template("$(format-json date=$ISODATE host=$HOST ident=$PROGRAM pid=$PID msgid=$MSGID message=$MESSAGE pri=$PRI)\\n")); };
log { source(s_net); destination(d_file); };
`;

const rsyslogConfig = (
  tcp: number,
  udp: number,
  dir: string,
  out: string,
  mods: string,
) => `global(workDirectory="${dir}" maxMessageSize="64k")
module(load="${mods}/imtcp.so")
module(load="${mods}/imudp.so")
input(type="imtcp" address="127.0.0.1" port="${tcp}")
input(type="imudp" address="127.0.0.1" port="${udp}" rcvbufSize="4m")
template(name="json" type="list" option.jsonf="on") {
  property(outname="date" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="host" name="hostname" format="jsonf")
  property(outname="ident" name="app-name" format="jsonf")
  property(outname="pid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="message" name="msg" format="jsonf")
  property(outname="pri" name="pri" format="jsonf")
}
action(type="omfile" file="${out}" template="json")
`;

/** Root runs the receivers as nobody; any other user as itself. */
const unprivileged = () => (process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {});

/**
 * Starts one receiver writing to `dir/out` (`out` may be a FIFO, for the stalled-output test) and
 * resolves once both its ports accept.
 */
export async function startReceiver(
  target: Target,
  dir: string,
  out: string,
  ports: { tcp: number; udp: number },
): Promise<Receiver> {
  chmodSync(dir, 0o777);
  const file = join(dir, out);
  let child: ChildProcess;
  if (target === 'sprout' || target === 'sprout-before') {
    writeFileSync(join(dir, 'collector.yaml'), sproutConfig(ports.tcp, ports.udp, dir, out));
    child = spawn(
      process.execPath,
      ['--conditions=@sprout/source', '--import', 'tsx', join(root, 'bench/collector-syslog-sprout.ts'), dir],
      {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          ...process.env,
          ...(target === 'sprout-before' ? { BENCH_COLLECTOR_MODULE: process.env.BENCH_SPROUT_BEFORE } : {}),
        },
        ...unprivileged(),
      },
    );
  } else {
    const peers = peersRoot();
    const env = {
      ...process.env,
      LD_LIBRARY_PATH: ['usr/lib/syslog-ng', 'usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu']
        .map((p) => join(peers, p))
        .join(':'),
    };
    const opts: SpawnOptions = { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'], ...unprivileged() };
    if (target === 'syslog-ng') {
      writeFileSync(join(dir, 'syslog-ng.conf'), syslogNgConfig(ports.tcp, ports.udp, file));
      child = spawn(
        join(peers, 'usr/sbin/syslog-ng'),
        [
          '-F',
          '--no-caps',
          '-f',
          join(dir, 'syslog-ng.conf'),
          '-R',
          join(dir, 'syslog-ng.persist'),
          '-p',
          join(dir, 'syslog-ng.pid'),
          '-c',
          join(dir, 'syslog-ng.ctl'),
          `--module-path=${join(peers, 'usr/lib/syslog-ng/3.38')}`,
        ],
        opts,
      );
    } else {
      const mods = join(peers, 'usr/lib/x86_64-linux-gnu/rsyslog');
      writeFileSync(join(dir, 'rsyslog.conf'), rsyslogConfig(ports.tcp, ports.udp, dir, file, mods));
      child = spawn(
        join(peers, 'usr/sbin/rsyslogd'),
        ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslog.pid'), '-M', mods],
        opts,
      );
    }
  }
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`${target} exited ${code} at start`))),
  );
  await Promise.race([waitListening(ports.tcp, ports.udp), exited]);
  exited.catch(() => undefined);
  return {
    target,
    pid: child.pid!,
    tcpPort: ports.tcp,
    udpPort: ports.udp,
    out: file,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/** Polls /proc/net/{tcp,udp} until both ports are bound on 127.0.0.1. */
async function waitListening(tcp: number, udp: number): Promise<void> {
  const bound = (table: string, port: number, state?: string) =>
    readFileSync(`/proc/net/${table}`, 'utf8')
      .split('\n')
      .some((l) => {
        const f = l.trim().split(/\s+/);
        return (
          f[1] === `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}` &&
          (!state || f[3] === state)
        );
      });
  const end = Date.now() + 60_000;
  while (!(bound('tcp', tcp, '0A') && bound('udp', udp))) {
    if (Date.now() > end) throw new Error(`ports ${tcp}/${udp} not bound after 60 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** CPU seconds (user + system, every thread) a process used so far (Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}
