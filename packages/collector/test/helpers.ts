import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
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
