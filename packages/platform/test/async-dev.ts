// A real `sprout dev` process (the CLI, built) serving a copy of examples/order-pipeline whose topic
// and stream names are unique to the test file, against the NATS JetStream on this machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { connect } from 'nats';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'packages/cli/bin/sprout.js');

type LogLine = Record<string, unknown> & { msg?: string };

/**
 * A copy of the example with `orders` and `sprout-orders` renamed after `tag`; `ackWait` (a Dapr
 * duration) is added to the `orders` component of every function when given.
 */
export function pipelineCopy(tag: string, ackWait?: string): { dir: string; topic: string; stream: string } {
  const dir = mkdtempSync(join(tmpdir(), `sprout-${tag}-`));
  const topic = `orders-${tag}-${process.pid}`;
  const stream = `stream-${tag}-${process.pid}`;
  cpSync(join(root, 'examples/order-pipeline'), join(dir, 'fns'), { recursive: true });
  for (const fn of readdirSync(join(dir, 'fns'))) {
    const file = join(dir, 'fns', fn, 'function.yaml');
    let text = readFileSync(file, 'utf8')
      .replaceAll('topic: pipeline-orders', `topic: ${topic}`)
      .replaceAll('sprout-orders', stream);
    if (ackWait)
      text = text.replace(
        `            value: ${stream}\n`,
        `            value: ${stream}\n          - name: ackWait\n            value: ${ackWait}\n`,
      );
    writeFileSync(file, text);
  }
  return { dir, topic, stream };
}

export interface RunningDev {
  child: ChildProcess;
  lines: LogLine[];
  gateway: string;
  api: string;
  dapr: string;
  token: string;
  /** The REST API, JSON. */
  call(path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }>;
}

/** Starts `sprout dev` on the copy; resolves once the gateway, the API and the Dapr API are printed. */
export function startSproutDev(dir: string, dataDir: string): Promise<RunningDev> {
  const child = spawn(
    process.execPath,
    [
      cli,
      'dev',
      join(dir, 'fns'),
      '--data-dir',
      dataDir,
      '--port',
      '0',
      '--api-port',
      '0',
      '--host',
      '127.0.0.1',
      '--no-watch',
      '--no-collector',
      '--no-eip',
    ],
    { cwd: root, env: { ...process.env, SPROUT_LOG_FORMAT: 'json', NODE_OPTIONS: '' } },
  );
  const lines: LogLine[] = [];
  return new Promise((resolve, reject) => {
    let buf = '';
    const seen: Partial<RunningDev> = { child, lines };
    child.stderr.on('data', (c: Buffer) => {
      buf += c.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const p of parts) {
        if (!p.startsWith('{')) continue;
        const l = JSON.parse(p) as LogLine;
        lines.push(l);
        if (l.msg === 'serving' && l.function === 'checkout')
          seen.gateway = String(l.url).replace(/\/checkout$/, '');
        if (l.msg === 'platform API') {
          seen.api = String(l.url);
          seen.token = String(l.token);
        }
        if (String(l.msg).startsWith('Dapr publish/bindings API')) seen.dapr = String(l.url);
        if (seen.gateway && seen.api && seen.dapr && seen.token) {
          const api = seen.api;
          const token = seen.token;
          resolve({
            ...(seen as RunningDev),
            async call(path, init = {}) {
              const r = await fetch(`${api}${path}`, {
                ...init,
                headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
              });
              const text = await r.text();
              return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
            },
          });
        }
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`sprout dev exited with ${code}: ${lines.map((l) => l.msg).join('\n')}`)),
    );
  });
}

/** What the `pipeline` store holds: key (without the store prefix) → value. */
export function pipelineState(dataDir: string): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  let db: Database.Database;
  try {
    db = new Database(join(dataDir, 'state', 'pipeline.db'), { readonly: true, fileMustExist: true });
  } catch {
    return out;
  }
  try {
    const rows = db.prepare('SELECT key, value FROM state').all() as { key: string; value: string }[];
    for (const r of rows)
      out.set(r.key.replace(/^pipeline\|\|/, ''), JSON.parse(r.value) as Record<string, unknown>);
  } catch {
    // The store's table is created by the first instance that opens it.
  } finally {
    db.close();
  }
  return out;
}

export { until } from './helpers.js';

/** POSTs an order to the checkout function through the gateway (checkout publishes it with ctx.send). */
export async function checkout(gateway: string, order: Record<string, unknown>): Promise<unknown> {
  const r = await fetch(`${gateway}/checkout`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(order),
  });
  if (r.status !== 200) throw new Error(`checkout answered ${r.status}: ${await r.text()}`);
  return r.json();
}

/** Removes the test's stream from NATS and its folder. */
export async function cleanUp(dir: string, stream: string): Promise<void> {
  const nc = await connect({ servers: '127.0.0.1:4222' });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Stops the process (SIGTERM, then SIGKILL after 10 s) and waits for it. */
export async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}
