/**
 * The processes bench/gateway.ts measures, each started on its own: the gateway
 * (bench/gateway-server.ts), the peer nginx (Debian's, one worker, keepalive upstream pool), and
 * the floor of a Node proxy (bench/node-pipe-proxy.ts); and the CPU time of a process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, root, waitReady } from './lib.js';

const node = process.execPath;

export interface GatewayProc {
  pid: number;
  port: number;
  admin: number;
  stop(): Promise<void>;
}

export async function startGateway(args: string[], options: string): Promise<GatewayProc> {
  const child = spawn(node, ['--import', 'tsx', `${root}bench/gateway-server.ts`, ...args], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', SPROUT_BENCH_GATEWAY_OPTIONS: options },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [port, admin] = await new Promise<[number, number]>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /GATEWAY (\d+) (\d+)/.exec(buf);
      if (m) resolve([Number(m[1]), Number(m[2])]);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited ${code}`)));
  });
  return {
    pid: child.pid!,
    port,
    admin,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

/** The floor of a Node proxy (bench/node-pipe-proxy.ts) in front of `upstreamPort`. */
export async function startPipe(upstreamPort: number): Promise<{ pid: number; port: number; stop(): void }> {
  const child = spawn(node, ['--import', 'tsx', `${root}bench/node-pipe-proxy.ts`, String(upstreamPort)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /PIPE (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`node-pipe-proxy exited ${code}`)));
  });
  return { pid: child.pid!, port, stop: () => child.kill('SIGTERM') };
}

/** The peer: Debian's nginx as a reverse proxy (one worker, keepalive pool) in front of `upstreamPort`. */
export async function startNginx(upstreamPort: number): Promise<GatewayProc> {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-bench-nginx-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream fn { server 127.0.0.1:${upstreamPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://fn;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`,
  );
  const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'inherit' });
  await waitReady(`http://127.0.0.1:${port}/`, performance.now());
  // the worker does the proxying; the master only supervises
  const worker = Number(
    readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0],
  );
  return {
    pid: worker,
    port,
    admin: 0,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGQUIT');
      }),
  };
}

/** CPU time a process has used, µs (Linux, 100 Hz ticks). */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}
