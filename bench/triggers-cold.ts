// First message after scale-to-zero, through a real `sprout dev` process (the CLI, built): an async
// function on NATS JetStream (minReplicas 0, KEDA nats-jetstream trigger, short cooldown) is left
// to reach zero instances; one message is published with the Dapr publish API of `sprout dev`; the
// handler, in the instance the message started, POSTs its own clock reading to a listener of this
// bench (the marker). A sample = handler's clock − the clock just before the publish request.
// `--standby` is passed to `sprout dev` (its default is 1 pre-started process; 0 = none).
//
//   node --conditions=@sprout/source --import tsx bench/triggers-cold.ts [--samples 20] [--standby 1]
//
// Writes `scaleFromZero` (one entry per --standby value) into bench/results/triggers.json, keeping
// the figures already there.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from 'nats';
import { percentile, root, writeResult } from './lib.js';
import { NATS_URL, nowMs } from './triggers-harness.js';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '20' },
    standby: { type: 'string', default: '1' },
  },
});
const SAMPLES = Number(values.samples);
const STANDBY = Number(values.standby);
const tag = `bench-cold-${process.pid}`;
const topic = `${tag}-topic`;
const stream = `${tag}-stream`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- the marker listener

const marks = new Map<string, number>();
const listener = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const { id, at } = JSON.parse(body) as { id: string; at: number };
    if (!marks.has(id)) marks.set(id, at);
    res.end();
  });
});
await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
const { port } = listener.address() as { port: number };

// ---------------------------------------------------------------- the function

const dir = mkdtempSync(join(tmpdir(), 'sprout-bench-cold-'));
const fnDir = join(dir, 'fns', 'cold');
mkdirSync(fnDir, { recursive: true });
writeFileSync(join(fnDir, 'package.json'), '{ "name": "cold", "type": "module", "main": "index.js" }\n');
writeFileSync(
  join(fnDir, 'index.js'),
  `import { request } from 'node:http';
// The marker: this process's clock when the message reached the handler, POSTed to the bench.
export async function take(ctx, data) {
  const at = performance.timeOrigin + performance.now();
  await new Promise((resolve, reject) => {
    const req = request(data.mark, { method: 'POST' }, (res) => res.resume().on('end', resolve));
    req.on('error', reject);
    req.end(JSON.stringify({ id: data.id, at }));
  });
}
`,
);
writeFileSync(
  join(fnDir, 'function.yaml'),
  `apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: cold
spec:
  version: v1.0.0
  serving:
    params:
      FUNCTION_TARGET: take
    pubsub:
      bus:
        type: pubsub.jetstream
        version: v1
        metadata:
          - name: natsURL
            value: ${NATS_URL}
          - name: streamName
            value: ${stream}
    triggers:
      dapr:
        - name: bus
          topic: ${topic}
    scaleOptions:
      minReplicas: 0
      maxReplicas: 1
      keda:
        scaledObject:
          pollingInterval: 1
          cooldownPeriod: 1
        triggers:
          - type: nats-jetstream
            metadata:
              natsServerMonitoringEndpoint: 127.0.0.1:8222
              stream: ${stream}
              consumer: cold-bus
              lagThreshold: '10'
              activationLagThreshold: '0'
`,
);

// ---------------------------------------------------------------- sprout dev

interface Dev {
  child: ChildProcess;
  api: string;
  dapr: string;
  token: string;
}

function startDev(): Promise<Dev> {
  const child = spawn(
    process.execPath,
    [
      join(root, 'packages/cli/bin/sprout.js'),
      'dev',
      join(dir, 'fns'),
      '--data-dir',
      join(dir, 'data'),
      '--port',
      '0',
      '--api-port',
      '0',
      '--host',
      '127.0.0.1',
      '--standby',
      String(STANDBY),
      '--no-watch',
      '--no-collector',
      '--no-eip',
    ],
    { cwd: root, env: { ...process.env, SPROUT_LOG_FORMAT: 'json', NODE_OPTIONS: '' } },
  );
  return new Promise((resolve, reject) => {
    let buf = '';
    const seen: Partial<Dev> = { child };
    child.stdout.resume();
    child.stderr.on('data', (c: Buffer) => {
      buf += c.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const p of parts) {
        if (!p.startsWith('{')) continue;
        const l = JSON.parse(p) as Record<string, unknown>;
        if (l.msg === 'platform API') {
          seen.api = String(l.url);
          seen.token = String(l.token);
        }
        if (String(l.msg).startsWith('Dapr publish/bindings API')) seen.dapr = String(l.url);
        if (seen.api && seen.dapr && seen.token) resolve(seen as Dev);
      }
    });
    child.once('exit', (code) => reject(new Error(`sprout dev exited with ${code}`)));
  });
}

async function instances(dev: Dev): Promise<number> {
  const r = await fetch(`${dev.api}/v1/functions/cold`, {
    headers: { authorization: `Bearer ${dev.token}` },
  });
  const view = (await r.json()) as { instances?: unknown[] };
  return view.instances?.length ?? -1;
}

async function standbyReady(dev: Dev): Promise<number> {
  const r = await fetch(`${dev.api}/v1/health`, { headers: { authorization: `Bearer ${dev.token}` } });
  return ((await r.json()) as { standbyReady?: number }).standbyReady ?? 0;
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** One sample: at zero instances, publish one message, time until the handler has it. */
async function sample(dev: Dev, i: number): Promise<number> {
  await until('zero instances', async () => (await instances(dev)) === 0);
  // With --standby, the pre-started process taken by the last cold start is started again in its
  // own time: a sample starts once it is ready, as a function idle for a while finds it.
  await until('the standby process ready', async () => (await standbyReady(dev)) >= Math.min(1, STANDBY));
  await sleep(500);
  if ((await instances(dev)) !== 0) throw new Error('not at zero');
  const id = `${tag}-${i}`;
  const t0 = nowMs();
  const r = await fetch(`${dev.dapr}/v1.0/publish/bus/${topic}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'dapr-api-token': dev.token },
    body: JSON.stringify({ id, mark: `http://127.0.0.1:${port}/` }),
  });
  if (r.status !== 204) throw new Error(`publish answered ${r.status}: ${await r.text()}`);
  await until(`message ${id} handled`, () => marks.has(id));
  return marks.get(id)! - t0;
}

const dev = await startDev();
const runs: number[] = [];
try {
  for (let i = 0; i < SAMPLES; i++) {
    runs.push(await sample(dev, i));
    process.stderr.write(`  … sample ${i + 1}/${SAMPLES}: ${runs.at(-1)!.toFixed(1)} ms\n`);
  }
} finally {
  const exited = new Promise((r) => dev.child.once('exit', r));
  dev.child.kill('SIGTERM');
  await exited;
  listener.close();
  const nc = await connect({ servers: NATS_URL });
  await (await nc.jetstreamManager()).streams.delete(stream).catch(() => false);
  await nc.close();
  rmSync(dir, { recursive: true, force: true });
}

const r1 = (x: number) => Number(x.toFixed(1));
const figures = {
  date: new Date().toISOString(),
  broker: 'jetstream',
  publish: 'Dapr publish API of sprout dev',
  standby: STANDBY,
  samples: SAMPLES,
  medianMs: r1(percentile(runs, 50)),
  p99Ms: r1(percentile(runs, 99)),
  runs: runs.map(r1),
  loadAverage: loadavg().map(r1),
};
console.log(
  `0 → first message handled after scale-to-zero (sprout dev, JetStream, standby ${STANDBY}, ` +
    `${SAMPLES} samples): median ${figures.medianMs} ms, p99 ${figures.p99Ms} ms ` +
    `(target ≤ 500 ms median; load average ${figures.loadAverage.join(' ')})`,
);

const file = `${root}bench/results/triggers.json`;
const earlier = existsSync(file)
  ? (JSON.parse(readFileSync(file, 'utf8')) as {
      results?: Record<string, unknown> & { scaleFromZero?: object };
    })
  : {};
const results = earlier.results ?? {};
writeResult('triggers', {
  node: process.version,
  note: 'shared machine (2 cores, other test runs): figures are noisy',
  results: {
    ...results,
    scaleFromZero: { ...(results.scaleFromZero ?? {}), [`standby${STANDBY}`]: figures },
  },
});
process.exit(0);
