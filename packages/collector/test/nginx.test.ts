import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@sprout/http/testing';
import { startCapture, waitFor } from './helpers.js';

// Real peer: Debian nginx with stub_status, on a free port with its own config and prefix.
describe('nginx_metrics input with nginx stub_status', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collector-nginx-'));
  let nginx: ChildProcess;
  let port: number;
  let stderr = '';
  let h: Awaited<ReturnType<typeof startCapture>>;
  beforeAll(async () => {
    port = await freePort();
    mkdirSync(join(dir, 'logs'));
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
      .map((t) => `  ${t}_temp_path ${dir}/${t};`)
      .join('\n');
    writeFileSync(
      join(dir, 'nginx.conf'),
      `worker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/logs/error.log;\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n${temp}\n  server {\n    listen 127.0.0.1:${port};\n    location = /status { stub_status; }\n    location / { return 200 "hello\\n"; }\n  }\n}\n`,
    );
    nginx = spawn(
      'nginx',
      ['-p', dir, '-e', `${dir}/logs/error.log`, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    nginx.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined))?.ok,
      10_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; nginx said: ${stderr}`);
    });
    h = await startCapture(`
service: { flush: 0.05 }
pipeline:
  inputs:
    - { name: nginx_metrics, host: 127.0.0.1, port: ${port}, status_url: /status, scrape_interval: 200ms, tag: ngx }
    - { name: nginx, host: 127.0.0.1, port: ${await freePort()}, scrape_interval: 200ms, tag: ngx.down }
    - { name: nginx_metrics, nginx_plus: on, host: 127.0.0.1, port: ${port}, status_url: /api, scrape_interval: 200ms, tag: ngx.plus }
  outputs:
    - { name: stdout, match: 'ngx*' }
`);
  });
  afterAll(async () => {
    await h?.c.close();
    nginx?.kill('SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
  });
  const of = (tag: string) => (h.got.get('stdout.0') ?? []).filter((r) => r.tag === tag);

  it('scrapes stub_status into metrics; request counts follow real traffic', async () => {
    const latest = (name: string) =>
      of('ngx')
        .filter((r) => r.body.name === name)
        .at(-1)?.body.value as number | undefined;
    await waitFor(() => latest('nginx_http_requests_total') !== undefined);
    const before = latest('nginx_http_requests_total')!;
    for (let i = 0; i < 5; i++) await (await fetch(`http://127.0.0.1:${port}/`)).text();
    await waitFor(() => latest('nginx_http_requests_total')! >= before + 5);
    expect(latest('nginx_up')).toBe(1);
    expect(latest('nginx_connections_active')).toBeGreaterThanOrEqual(1);
    expect(latest('nginx_connections_accepted')).toBeGreaterThanOrEqual(1);
    const names = new Set(of('ngx').map((r) => r.body.name));
    expect([...names].sort()).toEqual(
      [
        'nginx_connections_accepted',
        'nginx_connections_active',
        'nginx_connections_handled',
        'nginx_connections_reading',
        'nginx_connections_waiting',
        'nginx_connections_writing',
        'nginx_http_requests_total',
        'nginx_up',
      ].sort(),
    );
    expect(of('ngx').every((r) => r.kind === 'metric')).toBe(true);
  });

  it('reports nginx_up 0 when nothing answers', async () => {
    await waitFor(() => of('ngx.down').length > 0);
    expect(of('ngx.down')[0]!.body).toEqual({ name: 'nginx_up', type: 'gauge', value: 0 });
  });

  it('nginx_plus on against free nginx (no Plus API) reports nginxplus_up 0', async () => {
    await waitFor(() => of('ngx.plus').length > 0);
    expect(of('ngx.plus')[0]!.body).toEqual({ name: 'nginxplus_up', type: 'gauge', value: 0 });
  });
});
