import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createCollector, parseConfig } from '../src/index.js';
import { quiet, sink, waitFor } from './helpers.js';

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

/** Records in the chunk files under `dir`; a chunk deleted while we read (delivered) counts as 0. */
function chunkLines(dir: string): number {
  let n = 0;
  for (const sub of readdirSync(dir)) {
    for (const f of readdirSync(join(dir, sub))) {
      let text = '';
      try {
        text = readFileSync(join(dir, sub, f), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      n += text.split('\n').filter(Boolean).length;
    }
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

  it('storage.total_limit_size with storage.drop_oldest drops the oldest chunks, counted, and delivers the rest', async () => {
    let up = false;
    const got: number[] = [];
    const c = createCollector(
      parseConfig(
        `service:\n  flush: 0.02\n  storage.path: ${dir}/limited\n  scheduler.base: 0.02\n  scheduler.cap: 0.05\npipeline:\n  inputs:\n    - { name: tcp, listen: 127.0.0.1, port: 0, storage.type: filesystem }\n  outputs:\n    - { name: http, match: '*', retry_limit: no_limits, storage.total_limit_size: 16K, storage.drop_oldest: on }\n`,
      ),
      {
        logger: quiet,
        outputOverride: () => ({
          write: async (recs) => {
            if (!up) throw new Error('down');
            for (const r of recs) got.push(r.body.seq as number);
          },
        }),
      },
    );
    await c.start();
    const port = c.inputs()[0]!.address!.port!;
    // Ten bursts of 100 records (~5 KB each), far apart enough to land in separate chunks.
    for (let burst = 0; burst < 10; burst++) {
      await new Promise<void>((resolve, reject) => {
        const sock = connect(port, '127.0.0.1', () => {
          let text = '';
          for (let i = 0; i < 100; i++)
            text += JSON.stringify({ seq: burst * 100 + i, pad: 'x'.repeat(30) }) + '\n';
          sock.end(text);
        });
        sock.on('close', () => resolve());
        sock.on('error', reject);
      });
      await new Promise((r) => setTimeout(r, 60));
    }
    const dropped = () =>
      c.metrics
        .metrics()
        .then((m) =>
          Number(/collector_output_dropped_records_total\{output="http.0"\} (\d+)/.exec(m)?.[1] ?? 0),
        );
    await waitFor(async () => (await dropped()) > 0);
    // At most the limit plus the chunk being written (one burst, ~12 KB on disk).
    const onDisk = readdirSync(`${dir}/limited/http.0`).reduce(
      (n, f) => n + statSync(join(`${dir}/limited/http.0`, f)).size,
      0,
    );
    expect(onDisk).toBeLessThanOrEqual(16 * 1024 + 13_000);
    up = true;
    const lost = await dropped();
    await waitFor(() => got.length === 1000 - lost);
    // What was kept is the newest records, each once.
    expect(new Set(got).size).toBe(got.length);
    expect(Math.max(...got)).toBe(999);
    await c.close();
  });
});
