// A real bird2 BGP daemon for tests: its own config, control socket and port, on loopback.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@sprout/http/testing';

export interface Bird {
  port: number;
  /** The control socket (bird's CLI protocol). */
  socket: string;
  /** `birdc show route all` (both tables). */
  routes(): Promise<string>;
  protocols(): Promise<string>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startBird(opts: {
  localAs: number;
  peerAs: number;
  peerAddress: string;
  birdAddress: string;
  holdTime?: number;
  /** More passive neighbours, e.g. a peer daemon for comparison. */
  extraPeers?: { name: string; address: string; as: number }[];
}): Promise<Bird> {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-eip-bird-'));
  const port = await freePort();
  const sock = join(dir, 'bird.ctl');
  writeFileSync(
    join(dir, 'bird.conf'),
    `router id 10.255.${opts.localAs % 250}.1;
protocol device { }
protocol bgp sprout {
  local ${opts.birdAddress} port ${port} as ${opts.localAs};
  neighbor ${opts.peerAddress} as ${opts.peerAs};
  passive on;
  multihop;
  hold time ${opts.holdTime ?? 9};
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}
${(opts.extraPeers ?? [])
  .map(
    (p) => `protocol bgp ${p.name} {
  local ${opts.birdAddress} port ${port} as ${opts.localAs};
  neighbor ${p.address} as ${p.as};
  passive on;
  multihop;
  ipv4 { import all; export none; };
}
`,
  )
  .join('')}`,
  );
  let proc: ChildProcess | undefined;
  let stderr = '';
  const birdc = (...args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile('birdc', ['-s', sock, ...args], { timeout: 5000 }, (err, out) =>
        err
          ? reject(new Error(`birdc ${args.join(' ')}: ${err.message}; bird said: ${stderr}`))
          : resolve(out),
      ),
    );
  const start = async () => {
    proc = spawn('bird', ['-f', '-c', join(dir, 'bird.conf'), '-s', sock], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const spawnError = new Promise<never>((_, reject) =>
      proc!.once('error', (e) =>
        reject(new Error(`cannot run bird (install bird2: scripts/setup.sh): ${e.message}`)),
      ),
    );
    for (let i = 0; i < 100; i++) {
      const ok = await Promise.race([
        birdc('show', 'status').then(
          () => true,
          () => false,
        ),
        spawnError,
      ]);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`bird did not start: ${stderr}`);
  };
  const stop = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGTERM');
    });
  };
  await start();
  return {
    port,
    socket: sock,
    routes: async () =>
      (await birdc('show', 'route', 'table', 'master4', 'all')) +
      (await birdc('show', 'route', 'table', 'master6', 'all')),
    protocols: () => birdc('show', 'protocols', 'all', 'sprout'),
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
