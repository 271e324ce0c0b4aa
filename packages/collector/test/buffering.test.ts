import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sink, waitFor } from './helpers.js';

const runner = fileURLToPath(new URL('./fixtures/run-collector.ts', import.meta.url));

function start(config: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--conditions=@sprout/source', '--import', 'tsx', runner, config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n'))
        resolve({
          child,
          port: (JSON.parse(out.split('\n')[0]!) as Array<{ address: { port: number } }>)[0]!.address.port,
        });
    });
    child.once('exit', (code) => reject(new Error(`collector exited ${code}: ${err}`)));
  });
}

function chunkLines(dir: string): number {
  let n = 0;
  for (const sub of readdirSync(dir)) {
    for (const f of readdirSync(join(dir, sub)))
      n += readFileSync(join(dir, sub, f), 'utf8')
        .split('\n')
        .filter(Boolean).length;
  }
  return n;
}

describe('filesystem buffering', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collector-buffer-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('survives kill -9 with the output down and delivers every record after restart', async () => {
    let up = false;
    const s = await sink(() => (up ? 200 : 503));
    const config = join(dir, 'collector.yaml');
    writeFileSync(
      config,
      `service:\n  flush: 0.05\n  storage.path: ${dir}/buffer\n  scheduler.base: 0.05\n  scheduler.cap: 0.2\npipeline:\n  inputs:\n    - { name: tcp, listen: 127.0.0.1, port: 0, tag: durable, storage.type: filesystem }\n  outputs:\n    - { name: http, match: durable, host: 127.0.0.1, port: ${s.port}, format: json_lines, retry_limit: no_limits }\n`,
    );
    const first = await start(config);
    children.push(first.child);
    const N = 2000;
    await new Promise<void>((resolve, reject) => {
      const sock = connect(first.port, '127.0.0.1', () => {
        for (let i = 0; i < N; i++) sock.write(JSON.stringify({ seq: i, pad: 'x'.repeat(50) }) + '\n');
        sock.end();
      });
      sock.on('close', () => resolve());
      sock.on('error', reject);
    });
    // Every record is on disk (the output has refused everything so far) before the crash.
    await waitFor(() => chunkLines(`${dir}/buffer`) === N);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    expect(s.bodies).toHaveLength(0);

    up = true;
    const second = await start(config);
    children.push(second.child);
    const seqs = () =>
      s.bodies.flatMap((b) =>
        b.body
          .toString()
          .split('\n')
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as { seq: number }).seq),
      );
    await waitFor(() => seqs().length >= N, 20_000);
    expect(new Set(seqs()).size).toBe(N);
    expect(seqs()).toHaveLength(N); // nothing twice either: nothing had been delivered before the crash
    await waitFor(() => chunkLines(`${dir}/buffer`) === 0);
    second.child.kill('SIGTERM');
    expect(await new Promise((r) => second.child.once('exit', r))).toBe(0);
    await s.close();
  });
});
