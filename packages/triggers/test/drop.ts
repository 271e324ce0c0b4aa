// Drops TCP connections from outside the client, as a broker restart or a network cut would.
import { execFileSync } from 'node:child_process';

/**
 * Kills the sockets from the given local ports to `brokerPort` with `ss -K` (needs root or
 * CAP_NET_ADMIN); only these sockets, so other test files' connections are untouched.
 */
export function killSockets(brokerPort: number, localPorts: number[]): void {
  if (localPorts.length === 0) throw new Error('no client sockets to kill');
  for (const p of localPorts) {
    execFileSync('ss', [
      '-K',
      '-tn',
      'dst',
      '127.0.0.1',
      'dport',
      '=',
      `:${brokerPort}`,
      'sport',
      '=',
      `:${p}`,
    ]);
  }
}

/** Local ports of this process' established connections to `brokerPort` (from ss -tnp). */
export function ownSockets(brokerPort: number): number[] {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', 'dport', '=', `:${brokerPort}`], {
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .filter((l) => l.includes(`pid=${process.pid},`))
    .map((l) => Number(/127\.0\.0\.1:(\d+)\s/.exec(l)?.[1]))
    .filter((n) => n > 0);
}
