// A real `sprout dev` process (the CLI, built) serving a copy of examples/order-pipeline whose topic
// and stream names are unique to the test file, against the NATS JetStream on this machine.
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { connect } from 'nats';
import { startDevProcess, type DevProcess } from '../src/testing.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'packages/cli/bin/sprout.js');

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

export interface RunningDev extends DevProcess {
  gateway: string;
  dapr: string;
}

/** Starts `sprout dev` on the copy; resolves once the gateway, the API and the Dapr API are printed. */
export async function startSproutDev(dir: string, dataDir: string): Promise<RunningDev> {
  const dev = await startDevProcess({
    bin: cli,
    cwd: root,
    args: [join(dir, 'fns'), '--data-dir', dataDir, '--no-collector', '--no-eip'],
  });
  const serving = await dev.waitLog((l) => l.msg === 'serving' && l.function === 'checkout', 'the gateway');
  const dapr = await dev.waitLog(
    (l) => String(l.msg).startsWith('Dapr publish/bindings API'),
    'the Dapr API',
  );
  return Object.assign(dev, {
    gateway: String(serving.url).replace(/\/checkout$/, ''),
    dapr: String(dapr.url),
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
