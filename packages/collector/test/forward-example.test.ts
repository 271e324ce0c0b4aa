import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createCollector, parseConfig, runConfigTests } from '../src/index.js';
import { quiet, run, startCapture, waitFor } from './helpers.js';

const dir = fileURLToPath(new URL('../../../examples/collector-forward/', import.meta.url));
const read = (f: string) => readFileSync(dir + f, 'utf8');

// The example as written, on free ports: its send.mjs (the official SDK) and edge.yaml → collector.yaml.
describe('examples/collector-forward', () => {
  const open: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    for (const c of open) await c.close();
  });

  it('config tests pass', async () => {
    const results = await runConfigTests(parseConfig(read('collector.yaml')));
    expect(results.map((r) => [r.name, r.ok])).toEqual([['debug events from forwarders are dropped', true]]);
  });

  it('send.mjs and edge.yaml deliver to collector.yaml; the debug event is filtered out', async () => {
    const rx = await startCapture(read('collector.yaml').replace('port: 24224', 'port: 0'));
    open.push(rx.c);
    const port = rx.port();
    const { stdout } = await run(process.execPath, [dir + 'send.mjs', String(port)]);
    expect(stdout).toContain('3 events acknowledged');
    const tx = createCollector(
      parseConfig(read('edge.yaml').replace('port: 9880', 'port: 0').replace('port: 24224', `port: ${port}`)),
      { logger: quiet },
    );
    await tx.start();
    open.push(tx);
    const res = await fetch(`http://127.0.0.1:${tx.inputs()[0]!.address!.port}/app.edge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"level":"info","msg":"via edge"}',
    });
    expect(res.status).toBe(201);
    const got = () => rx.got.get('stdout.0') ?? [];
    await waitFor(() => got().length >= 3);
    expect(
      got()
        .map((r) => [r.tag, r.body.msg])
        .sort(),
    ).toEqual([
      ['fwd.app.edge', 'via edge'],
      ['fwd.app.web', 'hello over forward'],
      ['fwd.app.worker', 'queue is long'],
    ]);
  });
});
