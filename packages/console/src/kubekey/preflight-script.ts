// The one shell script the pre-flight runs on a host, and the parser of what it prints. Each part
// of the output starts with a `@@<part>` line; everything is read from /proc or plain commands
// found on every distribution KubeKey supports.

/** Commands KubeKey needs on every node (kube-proxy in ipvs mode, the CNI, kubelet, downloads). */
export const REQUIRED_COMMANDS = ['socat', 'conntrack', 'ebtables', 'ipset', 'ipvsadm', 'curl'] as const;

export const HOST_SCRIPT = [
  'export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"',
  'echo @@kernel; uname -s',
  'echo @@hostname; hostname',
  'echo @@machine; cat /etc/machine-id 2>/dev/null',
  'echo @@os; (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")',
  'echo @@arch; uname -m',
  'echo @@sudo; if [ "$(id -u)" = 0 ]; then echo root; elif sudo -n true >/dev/null 2>&1; then echo ok; else echo no; fi',
  `echo @@commands; for c in ${REQUIRED_COMMANDS.join(' ')}; do command -v "$c" >/dev/null 2>&1 && echo "$c yes" || echo "$c no"; done`,
  'echo @@swap; tail -n +2 /proc/swaps 2>/dev/null',
  'echo @@listen; cat /proc/net/tcp /proc/net/tcp6 2>/dev/null',
  'echo @@end',
].join('\n');

export interface HostFacts {
  kernel: string;
  hostname: string;
  machineId: string;
  os: string;
  /** `uname -m` as KubeKey names it: amd64, arm64, or as printed. */
  arch: string;
  sudo: 'root' | 'ok' | 'no';
  commands: Record<string, boolean>;
  swapDevices: number;
  listening: Set<number>;
  /** False when the output stopped before the last part (the script was cut short). */
  complete: boolean;
}

const ARCH_NAMES: Record<string, string> = {
  x86_64: 'amd64',
  amd64: 'amd64',
  aarch64: 'arm64',
  arm64: 'arm64',
};

export function parseHostFacts(out: string): HostFacts {
  const parts = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of out.split('\n')) {
    const m = /^@@(\w+)$/.exec(line.trim());
    if (m) parts.set(m[1]!, (current = []));
    else current?.push(line);
  }
  const first = (k: string): string => (parts.get(k) ?? []).map((l) => l.trim()).find((l) => l !== '') ?? '';
  const commands: Record<string, boolean> = {};
  for (const l of parts.get('commands') ?? []) {
    const [c, v] = l.trim().split(/\s+/);
    if (c && (v === 'yes' || v === 'no')) commands[c] = v === 'yes';
  }
  const listening = new Set<number>();
  for (const l of parts.get('listen') ?? []) {
    // sl local_address rem_address st ...: "0: 0100007F:1A0B 00000000:0000 0A ..."; 0A is LISTEN.
    const f = l.trim().split(/\s+/);
    if (f.length > 3 && f[3] === '0A') {
      const port = parseInt(f[1]!.split(':').pop() ?? '', 16);
      if (Number.isInteger(port)) listening.add(port);
    }
  }
  const rawArch = first('arch');
  const sudo = first('sudo');
  return {
    kernel: first('kernel'),
    hostname: first('hostname'),
    machineId: first('machine'),
    os: first('os'),
    arch: ARCH_NAMES[rawArch] ?? rawArch,
    sudo: sudo === 'root' || sudo === 'ok' ? sudo : 'no',
    commands,
    swapDevices: (parts.get('swap') ?? []).filter((l) => l.trim() !== '').length,
    listening,
    complete: parts.has('end'),
  };
}
