import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { connect as connectTcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { closeServer, listen } from '@sprout/http/testing';
import { createLogger } from '@sprout/observe';
import { createCollector, parseConfig, type Collector, type CollectorRecord } from '../src/index.js';

export const run = promisify(execFile);
export const quiet = createLogger({ level: 'silent' });

/** Starts a collector from YAML whose outputs all write into `records` (keyed by output id). */
export async function startCapture(
  yaml: string,
): Promise<{ c: Collector; got: Map<string, CollectorRecord[]>; port: (i?: number) => number }> {
  const got = new Map<string, CollectorRecord[]>();
  const c = createCollector(parseConfig(yaml), {
    logger: quiet,
    outputOverride: (id) => ({
      write: async (records) => {
        got.set(id, [...(got.get(id) ?? []), ...records]);
      },
    }),
  });
  await c.start();
  return { c, got, port: (i = 0) => c.inputs()[i]!.address!.port! };
}

/** Polls until `fn` returns truthy or the time is up (then throws with the last value). */
export async function waitFor<T>(fn: () => T | Promise<T>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  let last: T;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out waiting; last value ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A local HTTP server recording request bodies; `status` decides the answer. */
export async function sink(status: () => number = () => 200) {
  const bodies: Array<{ url: string; headers: IncomingMessage['headers']; body: Buffer }> = [];
  const server = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const st = status();
    if (st < 300) bodies.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(parts) });
    res.writeHead(st).end();
  });
  const port = await listen(server);
  return { bodies, port, close: () => closeServer(server) };
}

/** A collector running in a child process of its own (a crash there does not take the test with it). */
export interface CollectorProcess {
  child: ChildProcess;
  inputs: Array<{ id: string; address: { port?: number; grpcPort?: number } }>;
  monitor: { host: string; port: number } | null;
  /** True while the process has not exited. */
  alive(): boolean;
  /** What it wrote to stderr so far (its logs, and a crash's stack). */
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

const runner = fileURLToPath(new URL('./fixtures/run-collector.ts', import.meta.url));

/** Starts `yaml` in a child process and resolves once its inputs listen. */
export async function startProcess(yaml: string): Promise<CollectorProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'collector-proc-'));
  const config = join(dir, 'collector.yaml');
  writeFileSync(config, yaml);
  const child = spawn(process.execPath, ['--conditions=@sprout/source', '--import', 'tsx', runner, config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SPROUT_TEST_PRINT_MONITOR: '1' },
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const lines = await new Promise<string[]>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const l = out.split('\n');
      if (l.length > 2) resolve(l);
    });
    void exited.then((code) => reject(new Error(`collector exited ${code}: ${err}`)));
  });
  rmSync(dir, { recursive: true, force: true });
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    inputs: JSON.parse(lines[0]!) as CollectorProcess['inputs'],
    monitor: (JSON.parse(lines[1]!) as { monitor: CollectorProcess['monitor'] }).monitor,
    alive,
    stderr: () => err,
    async stop() {
      if (!alive()) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The coded error a collector with the one input `input` (a YAML flow map) fails with at parse or start. */
export async function inputRefusal(input: string): Promise<{ code?: string; message: string }> {
  try {
    const c = createCollector(
      parseConfig(`pipeline:\n  inputs:\n    - ${input}\n  outputs:\n    - { name: 'null', match: '*' }\n`),
      { logger: quiet },
    );
    await c.start();
    await c.close();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error(`accepted: ${input}`);
}

/** POSTs `body` as JSON with curl (`extra` arguments before the URL); resolves with the status. */
export async function curlPostJson(url: string, body: string, extra: string[] = []): Promise<number> {
  const { stdout } = await run('curl', [
    '-s',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-H',
    'content-type: application/json',
    '--data-binary',
    body,
    ...extra,
    url,
  ]);
  return Number(stdout);
}

/** A raw TCP connection, resolved once open; `closed` settles when the server closes it. */
export function openSocket(
  port: number,
): Promise<{ s: Socket; closed: Promise<void>; isClosed: () => boolean }> {
  return new Promise((resolve, reject) => {
    const s = connectTcp(port, '127.0.0.1');
    let done = false;
    const closed = new Promise<void>((r) =>
      s.on('close', () => {
        done = true;
        r();
      }),
    );
    s.on('error', () => undefined);
    s.once('connect', () => resolve({ s, closed, isClosed: () => done }));
    s.once('error', reject);
  });
}
