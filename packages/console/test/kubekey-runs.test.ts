import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answerClientErrors, applyServerLimits, HttpError, sendError } from '@sprout/http';
import { closeServer, fuzzFindings, fuzzHttpServer, listen, seededRng } from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClusterApi,
  defaultCluster,
  type ClusterApi,
  type ClusterConfig,
  type RunRecord,
} from '../src/kubekey/index.js';

const FAKE_KK = fileURLToPath(new URL('fake-kk', import.meta.url));
const SECRET = 'pw-runs-secret-1';

interface Served {
  api: ClusterApi;
  server: Server;
  base: string;
  control: string;
  dataDir: string;
}

async function serve(withKk: boolean): Promise<Served> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sprout-kk-runs-'));
  const control = mkdtempSync(join(tmpdir(), 'sprout-fake-kk-'));
  const PATH = withKk ? `${FAKE_KK}${delimiter}${process.env.PATH}` : '/usr/bin:/bin';
  const api = createClusterApi({
    dataDir,
    env: { PATH, FAKE_KK_DIR: control, FAKE_KK_SECRET: SECRET },
    killGraceMs: 2000,
  });
  // As the console's server does: parse the target, answer what is not a path with a coded 400.
  const server = createServer((req, res) => {
    let url: URL | undefined;
    try {
      url = req.url?.startsWith('/') ? new URL(`http://console${req.url}`) : undefined;
    } catch {
      url = undefined;
    }
    if (!url)
      return sendError(res, new HttpError('SPROUT_ERR_HTTP_MALFORMED_REQUEST', 'not a path'), { code: 'X' });
    void api.handle(req, res, url);
  });
  applyServerLimits(server);
  answerClientErrors(server);
  return { api, server, base: `http://127.0.0.1:${await listen(server)}`, control, dataDir };
}

function lab(name = 'lab'): ClusterConfig {
  const c = defaultCluster(name);
  c.spec.kubernetes!.version = 'v1.28.15';
  c.spec.hosts = [
    { name: 'node1', address: '192.168.0.11', user: 'root', password: SECRET },
    { name: 'node2', address: '192.168.0.12', user: 'root', password: SECRET },
  ];
  c.spec.roleGroups = { etcd: ['node1'], 'control-plane': ['node1'], worker: ['node1', 'node2'] };
  return c;
}

const json = (base: string, method: string, path: string, body?: unknown) =>
  fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

/** Reads a run's server-sent events to the end: its lines in order and the final record. */
async function follow(
  base: string,
  cluster: string,
  id: string,
): Promise<{ lines: string[]; end: RunRecord }> {
  const res = await fetch(`${base}/v1/clusters/${cluster}/runs/${id}/log`);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const text = await res.text();
  const events = text
    .split('\n\n')
    .filter((e) => e.startsWith('event: ')) // not the keep-alive comments
    .map((e) => {
      const [ev, data] = e.split('\n');
      return {
        event: ev!.slice('event: '.length),
        data: JSON.parse(data!.slice('data: '.length)) as unknown,
      };
    });
  return {
    lines: events.filter((e) => e.event === 'line').map((e) => (e.data as { text: string }).text),
    end: events.find((e) => e.event === 'end')!.data as RunRecord,
  };
}

/** True while `pid` runs (a zombie nobody reaped yet counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('kk runs (a stand-in kk on PATH)', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve(true);
    expect((await json(s.base, 'POST', '/v1/clusters', { config: lab() })).status).toBe(201);
  });
  afterAll(async () => {
    await closeServer(s.server);
    await s.api.close();
    rmSync(s.dataDir, { recursive: true, force: true });
    rmSync(s.control, { recursive: true, force: true });
  });

  it('runs kk create cluster, streams its lines in order, records exit status and duration, removes the clear config', async () => {
    writeFileSync(join(s.control, 'lines'), '5');
    const res = await json(s.base, 'POST', '/v1/clusters/lab/runs', { action: 'create' });
    expect(res.status).toBe(202);
    const run = (await res.json()) as RunRecord;
    expect(run).toMatchObject({
      status: 'running',
      action: 'create',
      command: 'kk create cluster -f lab.yaml --yes',
    });
    const { lines, end } = await follow(s.base, 'lab', run.id);
    expect(lines[0]).toMatch(/^kk create cluster -f .*lab\.yaml --yes$/);
    expect(lines[1]).toMatch(/ mode 600$/);
    expect(lines).toContain('config holds the password');
    expect(
      lines.filter((l) => / step \d of 5$/.test(l)).map((l) => l.replace(/.* step (\d) of 5$/, '$1')),
    ).toEqual(['1', '2', '3', '4', '5']);
    expect(lines.at(-1)).toBe('warning: a kk warning on stderr');
    expect(end).toMatchObject({ id: run.id, status: 'succeeded', exitCode: 0 });
    expect(end.durationMs).toBeGreaterThanOrEqual(0);
    const file = lines[1]!.split(' ')[1]!;
    expect(existsSync(file)).toBe(false);
    // Kept: the record and the log, listed with the cluster's runs; the log replays when followed again.
    const list = (await (await fetch(`${s.base}/v1/clusters/lab/runs`)).json()) as { runs: RunRecord[] };
    expect(list.runs[0]).toMatchObject({ id: run.id, status: 'succeeded' });
    expect((await follow(s.base, 'lab', run.id)).lines).toEqual(lines);
    expect(readFileSync(join(s.api.store.dir('lab'), 'runs', `${run.id}.log`), 'utf8')).not.toContain(SECRET);
  });

  it('records a failing kk as failed with its exit status', async () => {
    writeFileSync(join(s.control, 'exit'), '3');
    writeFileSync(join(s.control, 'lines'), '1');
    const run = (await (
      await json(s.base, 'POST', '/v1/clusters/lab/runs', { action: 'add-nodes' })
    ).json()) as RunRecord;
    const { end, lines } = await follow(s.base, 'lab', run.id);
    expect(lines[0]).toMatch(/^kk add nodes -f .* --yes$/);
    expect(end).toMatchObject({ status: 'failed', exitCode: 3 });
    rmSync(join(s.control, 'exit'));
  });

  it('allows one run per cluster and cancels kk with everything it started', async () => {
    writeFileSync(join(s.control, 'lines'), '1000');
    writeFileSync(join(s.control, 'sleep'), '0.2');
    const run = (await (
      await json(s.base, 'POST', '/v1/clusters/lab/runs', { action: 'create' })
    ).json()) as RunRecord;
    const busy = await json(s.base, 'POST', '/v1/clusters/lab/runs', { action: 'delete' });
    expect(busy.status).toBe(409);
    expect(busy.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_CONSOLE_CLUSTER_RUN_BUSY');
    // Wait for kk to be under way (its child started), then cancel.
    const events = await fetch(`${s.base}/v1/clusters/lab/runs/${run.id}/log`);
    const reader = events.body!.getReader();
    let seen = '';
    while (!seen.includes('step 1 of 1000')) seen += new TextDecoder().decode((await reader.read()).value);
    const child = Number(readFileSync(join(s.control, 'child.pid'), 'utf8'));
    expect((await json(s.base, 'POST', `/v1/clusters/lab/runs/${run.id}/cancel`)).status).toBe(200);
    while (!seen.includes('event: end')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    const end = (await (await fetch(`${s.base}/v1/clusters/lab/runs/${run.id}`)).json()) as RunRecord;
    expect(end).toMatchObject({ status: 'cancelled', signal: 'SIGTERM' });
    expect(alive(child)).toBe(false);
    rmSync(join(s.control, 'lines'));
    rmSync(join(s.control, 'sleep'));
  });

  it("deletes a node (answering kk's question) and upgrades, keeping the saved config in step", async () => {
    const del = (await (
      await json(s.base, 'POST', '/v1/clusters/lab/runs', { action: 'delete-node', node: 'node2' })
    ).json()) as RunRecord;
    const d = await follow(s.base, 'lab', del.id);
    expect(d.lines[0]).toMatch(/^kk delete node node2 -f .*lab\.yaml$/);
    expect(d.lines).toContain('stdin: yes');
    const after = (await (await fetch(`${s.base}/v1/clusters/lab`)).json()) as { config: ClusterConfig };
    expect(after.config.spec.hosts.map((h) => h.name)).toEqual(['node1']);
    expect(after.config.spec.roleGroups.worker).toEqual(['node1']);
    const up = (await (
      await json(s.base, 'POST', '/v1/clusters/lab/runs', { action: 'upgrade', version: 'v1.29.15' })
    ).json()) as RunRecord;
    expect((await follow(s.base, 'lab', up.id)).lines[0]).toMatch(
      /^kk upgrade -f .* --with-kubernetes v1\.29\.15 --yes$/,
    );
    const upgraded = (await (await fetch(`${s.base}/v1/clusters/lab`)).json()) as {
      summary: { kubernetesVersion: string };
    };
    expect(upgraded.summary.kubernetesVersion).toBe('v1.29.15');
    const bad = await json(s.base, 'POST', '/v1/clusters/lab/runs', { action: 'delete-node', node: 'node9' });
    expect(await bad.json()).toMatchObject({
      error: { code: 'SPROUT_ERR_CONSOLE_CLUSTER_REQUEST_INVALID', field: 'node' },
    });
  });

  it('answers hostile requests with coded errors and keeps serving', async () => {
    const rng = seededRng();
    const r = await fuzzHttpServer(
      Number(new URL(s.base).port),
      {
        paths: [
          '/v1/clusters',
          '/v1/clusters/-/validate',
          '/v1/clusters/-/import',
          '/v1/clusters/lab',
          '/v1/clusters/lab/runs/x/log',
        ],
        good: Buffer.from(JSON.stringify({ config: lab('fuzzed') })),
      },
      { rng, ms: 800, min: 150 },
    );
    const f = fuzzFindings(r);
    expect(f.serverErrors, `seed ${rng.seed}`).toEqual([]);
    expect(f.uncoded, `seed ${rng.seed}`).toEqual([]);
    // still serving; the API is mounted here without the console's token check, so a fuzzed
    // DELETE of /v1/clusters/lab may have removed it, and then it is a coded 404
    expect((await fetch(`${s.base}/v1/clusters`)).status, `seed ${rng.seed}`).toBe(200);
    const cluster = await fetch(`${s.base}/v1/clusters/lab`);
    if (cluster.status !== 200) {
      expect(cluster.status, `seed ${rng.seed}`).toBe(404);
      expect(cluster.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_CONSOLE_CLUSTER_NOT_FOUND');
    }
  });
});

describe('after a console stopped mid-run', () => {
  it('removes the clear configs left behind and shows the run as interrupted', async () => {
    const s = await serve(true);
    try {
      expect((await json(s.base, 'POST', '/v1/clusters', { config: lab() })).status).toBe(201);
      const runs = join(s.api.store.dir('lab'), 'runs');
      mkdirSync(runs, { recursive: true });
      const stale: RunRecord = {
        id: '20261207T000000-abcdef',
        cluster: 'lab',
        action: 'create',
        params: {},
        command: 'kk create cluster -f lab.yaml --yes',
        status: 'running',
        startedAt: new Date().toISOString(),
      };
      writeFileSync(join(runs, `${stale.id}.json`), JSON.stringify(stale));
      const left = join(s.api.store.root, 'run-tmp', 'kk-old');
      mkdirSync(left, { recursive: true });
      writeFileSync(join(left, 'lab.yaml'), `password: ${SECRET}`);
      const again = createClusterApi({ dataDir: s.dataDir });
      expect(existsSync(left)).toBe(false);
      expect(again.runs.list('lab')[0]).toMatchObject({ id: stale.id, status: 'interrupted' });
      await again.close();
    } finally {
      await closeServer(s.server);
      await s.api.close();
      rmSync(s.dataDir, { recursive: true, force: true });
      rmSync(s.control, { recursive: true, force: true });
    }
  });
});

describe('without kk on PATH', () => {
  it('refuses with the exact command to run by hand', async () => {
    const s = await serve(false);
    try {
      expect((await json(s.base, 'POST', '/v1/clusters', { config: lab() })).status).toBe(201);
      const res = await json(s.base, 'POST', '/v1/clusters/lab/runs', { action: 'create' });
      expect(res.status).toBe(409);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('SPROUT_ERR_CONSOLE_CLUSTER_KK_MISSING');
      expect(body.error.message).toContain('download lab.yaml and run: kk create cluster -f lab.yaml --yes');
    } finally {
      await closeServer(s.server);
      await s.api.close();
      rmSync(s.dataDir, { recursive: true, force: true });
      rmSync(s.control, { recursive: true, force: true });
    }
  });
});
