import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { Client, type ConnectConfig } from 'ssh2';
import { expandRoleMembers, type ClusterConfig, type HostSpec } from './config.js';
import { HOST_SCRIPT, REQUIRED_COMMANDS, parseHostFacts, type HostFacts } from './preflight-script.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';

/** One row of the pre-flight table. */
export interface PreflightCheck {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

export interface HostReport {
  host: string;
  address: string;
  status: CheckStatus;
  checks: PreflightCheck[];
}

export interface PreflightReport {
  status: CheckStatus;
  hosts: HostReport[];
  /** Checks across hosts: time skew, duplicate hostnames and machines. */
  cluster: PreflightCheck[];
  startedAt: string;
  durationMs: number;
}

export interface PreflightOptions {
  /** Only these hosts (by name); default every host. */
  nodes?: readonly string[];
  /** SSH connect and handshake limit per host; default 10 s. */
  connectTimeoutMs?: number;
  /** Limit for the checks once logged in; default 20 s. */
  commandTimeoutMs?: number;
}

interface HostOutcome {
  report: HostReport;
  facts?: HostFacts;
  /** Host clock minus this machine's, and the measurement's uncertainty (half the round trip). */
  offsetMs?: number;
  errorMs?: number;
}

/**
 * Checks each host over SSH (ssh2) from this machine: reachable, login, sudo without a prompt, OS
 * and arch, the commands KubeKey needs, swap, the ports Kubernetes takes; then time skew and
 * duplicates across hosts. `config` has its secrets in clear (the caller opens them).
 */
export async function runPreflight(
  config: ClusterConfig,
  o: PreflightOptions = {},
): Promise<PreflightReport> {
  const started = Date.now();
  const hosts = config.spec.hosts.filter((h) => !o.nodes || o.nodes.includes(h.name));
  const roles = rolesByHost(config);
  const outcomes = await Promise.all(hosts.map((h) => checkHost(h, roles.get(h.name) ?? [], o)));
  const cluster = clusterChecks(outcomes);
  const all = [...outcomes.map((x) => x.report.status), ...cluster.map((c) => c.status)];
  return {
    status: worst(all),
    hosts: outcomes.map((x) => x.report),
    cluster,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
  };
}

function worst(s: CheckStatus[]): CheckStatus {
  return s.includes('fail') ? 'fail' : s.includes('warn') ? 'warn' : 'pass';
}

function rolesByHost(c: ClusterConfig): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [role, members] of Object.entries(c.spec.roleGroups ?? {})) {
    const r = role === 'master' ? 'control-plane' : role;
    for (const m of expandRoleMembers(Array.isArray(members) ? members : []))
      out.set(m, [...(out.get(m) ?? []), r]);
  }
  return out;
}

function expandHome(p: string): string {
  return p.startsWith('~/') ? `${homedir()}/${p.slice(2)}` : p;
}

async function checkHost(h: HostSpec, roles: string[], o: PreflightOptions): Promise<HostOutcome> {
  const checks: PreflightCheck[] = [];
  const report: HostReport = { host: h.name, address: h.address, status: 'pass', checks };
  const done = (): HostOutcome => ((report.status = worst(checks.map((c) => c.status))), { report });
  const port = h.port ?? 22;
  const user = h.user ?? 'root';
  let privateKey: string | Buffer | undefined = h.privateKey;
  if (!privateKey && h.privateKeyPath) {
    try {
      privateKey = readFileSync(expandHome(h.privateKeyPath));
    } catch (err) {
      checks.push({
        id: 'auth',
        title: 'SSH login',
        status: 'fail',
        detail: `cannot read ${h.privateKeyPath} on this machine: ${(err as Error).message}`,
        fix: 'put the key file on the machine that runs the console, or paste the key into the host',
      });
      return done();
    }
  }
  let hostKey = '';
  const cfg: ConnectConfig = {
    host: h.address,
    port,
    username: user,
    readyTimeout: o.connectTimeoutMs ?? 10_000,
    ...(h.password ? { password: h.password } : {}),
    ...(privateKey ? { privateKey } : {}),
    tryKeyboard: false,
    hostVerifier: (key: Buffer) => {
      hostKey = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
      return true;
    },
  };
  const conn = new Client();
  try {
    await new Promise<void>((resolve, reject) => {
      conn.once('ready', resolve).once('error', reject).connect(cfg);
    });
  } catch (err) {
    const e = err as Error & { level?: string; code?: string };
    conn.end();
    if (e.level === 'client-authentication') {
      checks.push({
        id: 'reachable',
        title: 'SSH reachable',
        status: 'pass',
        detail: `${h.address}:${port} answers SSH (host key ${hostKey})`,
      });
      checks.push({
        id: 'auth',
        title: 'SSH login',
        status: 'fail',
        detail: `${user} was refused (${e.message})`,
        fix: h.password
          ? `check the password of ${user}, and that sshd allows PasswordAuthentication`
          : `add the public key to ~${user}/.ssh/authorized_keys on ${h.name}`,
      });
    } else {
      checks.push({
        id: 'reachable',
        title: 'SSH reachable',
        status: 'fail',
        detail: `${h.address}:${port}: ${e.code ?? e.message}`,
        fix: `check the address and port, that sshd runs on ${h.name}, and that no firewall drops this machine's connections`,
      });
    }
    return done();
  }
  try {
    checks.push({
      id: 'reachable',
      title: 'SSH reachable',
      status: 'pass',
      detail: `${h.address}:${port} (host key ${hostKey})`,
    });
    checks.push({ id: 'auth', title: 'SSH login', status: 'pass', detail: `logged in as ${user}` });
    const limit = o.commandTimeoutMs ?? 20_000;
    const t0 = Date.now();
    const clock = await exec(conn, 'date +%s%N', limit);
    const t1 = Date.now();
    const remoteMs = Number(clock.stdout.trim().slice(0, -6));
    const facts = parseHostFacts((await exec(conn, HOST_SCRIPT, limit)).stdout);
    hostChecks(h, roles, user, facts, checks);
    const outcome = done();
    if (Number.isFinite(remoteMs) && remoteMs > 0) {
      return { ...outcome, facts, offsetMs: remoteMs - (t0 + t1) / 2, errorMs: (t1 - t0) / 2 };
    }
    return { ...outcome, facts };
  } catch (err) {
    checks.push({
      id: 'commands',
      title: 'Checks ran',
      status: 'fail',
      detail: (err as Error).message,
      fix: `log in to ${h.name} as ${user} and check that a POSIX shell runs commands`,
    });
    return done();
  } finally {
    conn.end();
  }
}

function exec(
  conn: Client,
  command: string,
  limitMs: number,
): Promise<{ stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the checks took over ${limitMs} ms`)), limitMs);
    conn.exec(command, (err, stream) => {
      if (err) {
        clearTimeout(timer);
        reject(err);
        return;
      }
      let stdout = '';
      stream.on('data', (d: Buffer) => {
        if (stdout.length < 1 << 20) stdout += d.toString('utf8');
      });
      stream.stderr.resume();
      stream.on('close', (code: number | null) => {
        clearTimeout(timer);
        resolve({ stdout, code });
      });
    });
  });
}

const PORTS: { port: number; role?: string; what: string }[] = [
  { port: 6443, role: 'control-plane', what: 'kube-apiserver' },
  { port: 2379, role: 'etcd', what: 'etcd clients' },
  { port: 2380, role: 'etcd', what: 'etcd peers' },
  { port: 10250, what: 'the kubelet' },
];

function hostChecks(
  h: HostSpec,
  roles: string[],
  user: string,
  f: HostFacts,
  checks: PreflightCheck[],
): void {
  const add = (c: PreflightCheck) => checks.push(c);
  if (!f.complete) {
    add({
      id: 'script',
      title: 'Checks ran',
      status: 'fail',
      detail: 'the host stopped answering before the checks finished',
      fix: 'run the pre-flight again',
    });
  }
  add(
    f.sudo === 'no'
      ? {
          id: 'sudo',
          title: 'sudo without a prompt',
          status: 'fail',
          detail: `sudo -n true failed for ${user}`,
          fix: `add "${user} ALL=(ALL) NOPASSWD:ALL" to /etc/sudoers.d/${user} on ${h.name} (KubeKey runs every step with sudo)`,
        }
      : {
          id: 'sudo',
          title: 'sudo without a prompt',
          status: 'pass',
          detail: f.sudo === 'root' ? 'logged in as root' : 'sudo -n true works',
        },
  );
  add(
    f.kernel === 'Linux'
      ? { id: 'os', title: 'Operating system', status: 'pass', detail: f.os || 'Linux' }
      : {
          id: 'os',
          title: 'Operating system',
          status: 'fail',
          detail: f.kernel || 'unknown',
          fix: 'KubeKey installs on Linux only',
        },
  );
  const want = h.arch ?? 'amd64';
  add(
    f.arch === want
      ? { id: 'arch', title: 'Architecture', status: 'pass', detail: f.arch }
      : {
          id: 'arch',
          title: 'Architecture',
          status: 'fail',
          detail: `the host is ${f.arch || 'unknown'}, the config says ${want}`,
          fix: `set arch: ${f.arch} on ${h.name} in the Hosts step`,
        },
  );
  for (const c of REQUIRED_COMMANDS) {
    add(
      f.commands[c]
        ? { id: `command:${c}`, title: `${c} installed`, status: 'pass', detail: 'found on PATH' }
        : {
            id: `command:${c}`,
            title: `${c} installed`,
            status: 'fail',
            detail: 'not found',
            fix: `install it on ${h.name}: apt-get install -y ${c} (Debian, Ubuntu) or yum install -y ${c} (CentOS, RHEL)`,
          },
    );
  }
  add(
    f.swapDevices === 0
      ? { id: 'swap', title: 'Swap off', status: 'pass', detail: 'no swap in use' }
      : {
          id: 'swap',
          title: 'Swap off',
          status: 'warn',
          detail: `${f.swapDevices} swap device(s) on`,
          fix: 'swapoff -a and remove swap from /etc/fstab: the kubelet refuses swap by default (KubeKey turns it off while installing)',
        },
  );
  for (const p of PORTS) {
    if (p.role && !roles.includes(p.role)) continue;
    add(
      f.listening.has(p.port)
        ? {
            id: `port:${p.port}`,
            title: `Port ${p.port} free`,
            status: 'fail',
            detail: `something already listens on ${p.port} (needed by ${p.what})`,
            fix: `stop what listens on ${p.port} on ${h.name} (ss -ltnp 'sport = :${p.port}'), or use a clean host; a node already in the cluster is expected to hold it`,
          }
        : {
            id: `port:${p.port}`,
            title: `Port ${p.port} free`,
            status: 'pass',
            detail: `free for ${p.what}`,
          },
    );
  }
}

function clusterChecks(outcomes: HostOutcome[]): PreflightCheck[] {
  const out: PreflightCheck[] = [];
  const timed = outcomes.filter((x) => x.offsetMs !== undefined);
  if (timed.length >= 2) {
    const offsets = timed.map((x) => x.offsetMs!);
    const skew = Math.max(...offsets) - Math.min(...offsets);
    const slack = Math.max(...timed.map((x) => x.errorMs!)) * 2;
    const beyond = Math.max(0, skew - slack);
    const detail = `clocks differ by ${Math.round(skew)} ms (±${Math.round(slack)} ms of measurement)`;
    const fix =
      'run chrony or systemd-timesyncd on every host, or set spec.system.ntpServers (KubeKey configures chrony from it)';
    out.push(
      beyond <= 1000
        ? { id: 'time-skew', title: 'Time skew between hosts', status: 'pass', detail }
        : {
            id: 'time-skew',
            title: 'Time skew between hosts',
            status: beyond <= 10_000 ? 'warn' : 'fail',
            detail,
            fix,
          },
    );
  } else {
    out.push({
      id: 'time-skew',
      title: 'Time skew between hosts',
      status: 'pass',
      detail: `${timed.length} host(s) answered: nothing to compare`,
    });
  }
  const seen = (key: (f: HostFacts) => string) => {
    const groups = new Map<string, string[]>();
    for (const x of outcomes) {
      const k = x.facts ? key(x.facts) : '';
      if (k) groups.set(k, [...(groups.get(k) ?? []), x.report.host]);
    }
    return [...groups.entries()].filter(([, hs]) => hs.length > 1);
  };
  const machines = seen((f) => f.machineId);
  out.push(
    machines.length === 0
      ? {
          id: 'duplicate-machine',
          title: 'One machine per host',
          status: 'pass',
          detail: 'every host has its own /etc/machine-id',
        }
      : {
          id: 'duplicate-machine',
          title: 'One machine per host',
          status: 'fail',
          detail: machines.map(([, hs]) => `${hs.join(', ')} are the same machine`).join('; '),
          fix: 'each host entry must be a different machine: fix the addresses, or regenerate /etc/machine-id on cloned VMs',
        },
  );
  const names = seen((f) => f.hostname);
  out.push(
    names.length === 0
      ? {
          id: 'duplicate-hostname',
          title: 'Unique hostnames',
          status: 'pass',
          detail: 'every host has its own hostname',
        }
      : {
          id: 'duplicate-hostname',
          title: 'Unique hostnames',
          status: 'fail',
          detail: names.map(([n, hs]) => `${hs.join(', ')} are all called ${n}`).join('; '),
          fix: 'give each machine its own name: hostnamectl set-hostname <name>',
        },
  );
  return out;
}
