import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createCollector, parseConfig } from '../src/index.js';
import type { CollectorRecord } from '../src/types.js';
import { quiet, waitFor } from './helpers.js';

/** An output that holds every write until `release()`, recording the size of each write. */
function gatedOutput() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const writes: number[] = [];
  const got: CollectorRecord[] = [];
  return {
    release,
    writes,
    got,
    instance: (maxRecords?: number) => ({
      ...(maxRecords ? { maxRecords } : {}),
      write: async (recs: CollectorRecord[]) => {
        await gate;
        writes.push(recs.length);
        got.push(...recs);
      },
    }),
  };
}

const metric = async (c: ReturnType<typeof createCollector>, re: RegExp) =>
  Number(re.exec(await c.metrics.metrics())?.[1] ?? 0);

describe('records in flight', () => {
  it('a UDP input over mem_buf_limit drops and counts datagrams instead of holding them; the rest arrive', async () => {
    const out = gatedOutput();
    const c = createCollector(
      parseConfig(`service: { flush: 0.01 }
pipeline:
  inputs:
    - { name: syslog, mode: udp, listen: 127.0.0.1, port: 0, tag: u, mem_buf_limit: 64K }
  outputs:
    - { name: 'null', match: '*' }
`),
      { logger: quiet, outputOverride: () => out.instance() },
    );
    await c.start();
    const udp = createSocket('udp4');
    const port = c.inputs()[0]!.address!.port!;
    const N = 400; // 400 × (~30 wire bytes + 512) is over 64K
    for (let i = 0; i < N; i++) {
      await new Promise<void>((r) =>
        udp.send(`<134>1 - host app - - - n=${i}`, port, '127.0.0.1', () => r()),
      );
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5)); // the kernel buffer is not the test
    }
    udp.close();
    const dropped = () =>
      metric(c, /collector_input_dropped_total\{input="syslog\.0",reason="mem_buf_limit"\} (\d+)/);
    const accepted = () => metric(c, /collector_input_records_total\{input="syslog\.0"\} (\d+)/);
    await waitFor(async () => (await dropped()) > 0);
    expect((await accepted()) * 512).toBeLessThan(64 * 1024 + 512 * 20); // held at the limit
    out.release();
    const n = await accepted();
    await waitFor(() => out.got.length === n);
    await c.close();
  });

  it('a stream input waits at 32,768 records in flight, far under mem_buf_limit; every line arrives in order', async () => {
    const out = gatedOutput();
    const c = createCollector(
      parseConfig(`service: { flush: 0.01 }
pipeline:
  inputs:
    - { name: tcp, listen: 127.0.0.1, port: 0, format: none, tag: t }
  outputs:
    - { name: 'null', match: '*' }
`),
      { logger: quiet, outputOverride: () => out.instance() },
    );
    await c.start();
    const sock = connect(c.inputs()[0]!.address!.port!, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const N = 100_000; // 600 KB of wire bytes: far under mem_buf_limit, over the record cap
    let text = '';
    for (let i = 0; i < N; i++) text += `${i}\n`;
    sock.end(text);
    await waitFor(async () => /collector_input_paused\{input="tcp\.0"\} 1/.test(await c.metrics.metrics()));
    const held = await metric(c, /collector_input_records_total\{input="tcp\.0"\} (\d+)/);
    expect(held).toBeGreaterThanOrEqual(32_768);
    expect(held).toBeLessThan(N);
    out.release();
    await waitFor(() => out.got.length === N);
    expect(out.got.every((r, i) => r.body.log === String(i))).toBe(true);
    await c.close();
  });

  it('batches queued behind a slow write reach an output with maxRecords merged, in order', async () => {
    const out = gatedOutput();
    const c = createCollector(
      parseConfig(`service: { flush: 10 }\npipeline:\n  outputs:\n    - { name: 'null', match: '*' }\n`),
      { logger: quiet, outputOverride: () => out.instance(2048) },
    );
    await c.start();
    // 20 pushes of 512 records: 20 sealed batches, the first written (held at the gate).
    for (let k = 0; k < 20; k++)
      void c.push(Array.from({ length: 512 }, (_, i) => ({ tag: 'a', body: { n: k * 512 + i } })));
    out.release();
    await waitFor(() => out.got.length === 20 * 512);
    expect(out.writes).toEqual([512, 2048, 2048, 2048, 2048, 1536]);
    expect(out.got.every((r, i) => r.body.n === i)).toBe(true);
    await c.close();
  });
});
