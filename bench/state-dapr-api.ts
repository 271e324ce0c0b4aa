// Overhead of the Dapr state HTTP API served by Sprout, in the sidecar arrangement: the server runs
// in its own process (bench/state-api-server.ts) and is called over one keep-alive HTTP/1.1
// connection, one request at a time, so the figures are latencies. The peer is the same engine
// called directly in this process. Dapr publishes p99 +1.52 ms for its sidecar; target ≤ 1.5 ms.
//
//   node --conditions=@sprout/source --import tsx bench/state-dapr-api.ts
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseComponent } from '@sprout/spec';
import { MemoryStateStore, openStateStore, type StateStore } from '@sprout/state';
import { compare, fmt, value, writeResults, type Figures } from './state-harness.js';

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function call(port: number, method: string, path: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = body
      ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
      : {};
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function startServer(engine: string, dataDir: string) {
  const script = fileURLToPath(new URL('./state-api-server.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--conditions=@sprout/source', '--import', 'tsx', script, engine, dataDir],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    setTimeout(() => reject(new Error('server did not start in 20 s')), 20_000).unref();
  });
  return {
    port,
    stop: () => new Promise<void>((r) => (child.once('exit', () => r()), child.kill('SIGTERM'))),
  };
}

const tmp = mkdtempSync(join(tmpdir(), 'sprout-bench-api-'));
type Pair = { save: Figures; get: Figures };
const out: Record<string, { direct: Pair; api: Pair; overheadP99Ms: { save: number; get: number } }> = {};
const sqlite = parseComponent({
  apiVersion: 'dapr.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'statestore' },
  spec: { type: 'state.sqlite', version: 'v1', metadata: [] },
});
const engines: [string, () => Promise<StateStore>][] = [
  ['in-memory', async () => new MemoryStateStore('statestore')],
  ['sqlite', () => openStateStore(sqlite, { appId: 'bench-direct', dataDir: join(tmp, 'direct') })],
];
for (const [engine, open] of engines) {
  const store = await open();
  const server = await startServer(engine, join(tmp, 'api'));
  process.once('exit', () => void server.stop());
  for (let i = 0; i < 1000; i++) {
    await store.save({ key: `k${i}`, value: value(i) });
    await call(
      server.port,
      'POST',
      '/v1.0/state/statestore',
      JSON.stringify([{ key: `k${i}`, value: value(i) }]),
    );
  }
  const save = await compare(
    (i) => store.save({ key: `k${i % 1000}`, value: value(i) }),
    async (i) => {
      const s = await call(
        server.port,
        'POST',
        '/v1.0/state/statestore',
        JSON.stringify([{ key: `k${i % 1000}`, value: value(i) }]),
      );
      if (s !== 204) throw new Error(`save answered ${s}`);
    },
    { concurrency: 1 },
  );
  const get = await compare(
    (i) => store.get(`k${i % 1000}`),
    async (i) => {
      const s = await call(server.port, 'GET', `/v1.0/state/statestore/k${i % 1000}`);
      if (s !== 200) throw new Error(`get answered ${s}`);
    },
    { concurrency: 1 },
  );
  const direct = { save: save.a, get: get.a };
  const api = { save: save.b, get: get.b };
  const overheadP99Ms = {
    save: Number((api.save.p99Ms - direct.save.p99Ms).toFixed(3)),
    get: Number((api.get.p99Ms - direct.get.p99Ms).toFixed(3)),
  };
  out[engine] = { direct, api, overheadP99Ms };
  console.log(`\n${engine}`);
  console.log(
    `  save direct ${fmt(direct.save)}\n       api    ${fmt(api.save)}   p99 overhead ${overheadP99Ms.save} ms`,
  );
  console.log(
    `  get  direct ${fmt(direct.get)}\n       api    ${fmt(api.get)}   p99 overhead ${overheadP99Ms.get} ms`,
  );
  await server.stop();
  await store.close();
}
// The same client against a server that does nothing: what HTTP on this machine costs by itself.
const bare = await startServer('bare-http', tmp);
const bareHttp = await compare(
  async (i) =>
    call(
      bare.port,
      'POST',
      '/v1.0/state/statestore',
      JSON.stringify([{ key: `k${i % 1000}`, value: value(i) }]),
    ),
  async (i) => call(bare.port, 'GET', `/v1.0/state/statestore/k${i % 1000}`),
  { concurrency: 1 },
);
await bare.stop();
console.log(
  `\nbare node:http server (no work), same client\n  save ${fmt(bareHttp.a)}\n  get  ${fmt(bareHttp.b)}`,
);
agent.destroy();
rmSync(tmp, { recursive: true, force: true });
const file = writeResults('state-dapr-api', {
  method:
    'server in its own process; one request at a time over one keep-alive connection; 3 alternating rounds of 3 s (0.5 s warm-up each), median round; overhead = p99(api) - p99(direct)',
  targets: { overheadP99Ms: 1.5, daprPublishedSidecarP99Ms: 1.52 },
  results: out,
  bareHttp: { save: bareHttp.a, get: bareHttp.b },
});
console.log(`\nwrote ${file}`);
