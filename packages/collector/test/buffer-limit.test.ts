import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@sprout/http/testing';
import { createMetrics } from '@sprout/observe/metrics';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { collectorMetrics } from '../src/engine/metrics.js';
import { buildOutputs, DEFAULT_TOTAL_LIMIT } from '../src/engine/wiring.js';
import { createCollector, parseConfig, type Collector } from '../src/index.js';
import { str, values } from './collectd-packet.js';
import { quiet, waitFor } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'collector-limit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bytes of the chunk files under `folder` (a chunk deleted while we read counts as 0). */
function chunkBytes(folder: string): number {
  let n = 0;
  for (const f of readdirSync(folder)) {
    try {
      n += statSync(join(folder, f)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return n;
}

const LIMIT = 256 * 1024;

describe('filesystem buffer limit and backpressure', () => {
  it('has a default storage.total_limit_size (512M) that pauses rather than grows', () => {
    const config = parseConfig(
      `service: { storage.path: ${dir}/default }\npipeline:\n  inputs: [{ name: tcp, storage.type: filesystem }]\n  outputs: [{ name: 'null', match: '*' }]\n`,
    );
    expect(DEFAULT_TOTAL_LIMIT).toBe(512 * 1024 * 1024);
    const runner = buildOutputs(config, quiet, collectorMetrics(createMetrics()), undefined)[0]!.runner;
    runner.add([{ time: 1n, tag: 't', body: { x: 1 } }], undefined, true);
    expect(runner.fits(1000)).toBe(true);
    expect(runner.fits(DEFAULT_TOTAL_LIMIT)).toBe(false);
  });

  it('with the output down: the buffer stays under the limit, TCP waits, HTTP gets 503, UDP drops are counted; everything accepted is delivered once it is back', async () => {
    const down = await freePort();
    const c: Collector = createCollector(
      parseConfig(`
service: { flush: 0.02, storage.path: ${dir}/flood, scheduler.base: 0.05, scheduler.cap: 0.2 }
pipeline:
  inputs:
    - { name: tcp, listen: 127.0.0.1, port: 0, tag: t, storage.type: filesystem }
    - { name: http, listen: 127.0.0.1, port: 0, tag: h, storage.type: filesystem }
    - { name: syslog, mode: udp, listen: 127.0.0.1, port: 0, tag: u, storage.type: filesystem, parser: json }
    - { name: statsd, listen: 127.0.0.1, port: 0, tag: s, storage.type: filesystem }
    - { name: collectd, listen: 127.0.0.1, port: 0, tag: cd, storage.type: filesystem }
  outputs:
    - { name: http, alias: out, match: '*', host: 127.0.0.1, port: ${down}, format: json_lines, retry_limit: no_limits, storage.total_limit_size: 256K }
`),
      { logger: quiet },
    );
    await c.start();
    const port = (i: number) => c.inputs()[i]!.address!.port!;
    const chunks = `${dir}/flood/out`;
    const metric = async (re: RegExp) => Number(re.exec(await c.metrics.metrics())?.[1] ?? 0);
    let maxOnDisk = 0;
    const sampler = setInterval(() => (maxOnDisk = Math.max(maxOnDisk, chunkBytes(chunks))), 5);
    onTestFinished(() => clearInterval(sampler));

    // Before the flood there is room: these are accepted (201, and read from UDP), so they must arrive.
    const postHttp = (seq: number) =>
      fetch(`http://127.0.0.1:${port(1)}/h`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ src: 'http', seq }),
      });
    const acceptedHttp: number[] = [];
    for (let i = 100; i < 103; i++) {
      expect((await postHttp(i)).status).toBe(201);
      acceptedHttp.push(i);
    }
    const udp = createSocket('udp4');
    const sendUdp = (seq: number) =>
      new Promise<void>((r) =>
        udp.send(JSON.stringify({ src: 'udp', seq }), port(2), '127.0.0.1', () => r()),
      );
    for (let i = 1000; i < 1005; i++) await sendUdp(i);
    const udpRecords = () => metric(/collector_input_records_total\{input="syslog\.0"\} (\d+)/);
    await waitFor(async () => (await udpRecords()) === 5);
    // collectd: one gauge per packet, its sequence number as the type instance.
    const sendCollectd = (seq: number) =>
      new Promise<void>((r) =>
        udp.send(
          Buffer.concat([
            str(0, 'flood'),
            str(2, 'flood'),
            str(4, 'gauge'),
            str(5, `${seq}`),
            values([[1, seq]]),
          ]),
          port(4),
          '127.0.0.1',
          () => r(),
        ),
      );
    for (let i = 2000; i < 2003; i++) await sendCollectd(i);
    const collectdRecords = () => metric(/collector_input_records_total\{input="collectd\.0"\} (\d+)/);
    await waitFor(async () => (await collectdRecords()) === 3);

    // TCP: far more than the limit and the kernel's socket buffers hold (30 MB).
    const N = 30_000;
    const pad = 'p'.repeat(1000);
    const tcp = connect(port(0), '127.0.0.1');
    await new Promise((r) => tcp.once('connect', r));
    let lastWritten = false;
    for (let i = 0; i < N; i++) {
      const line = JSON.stringify({ src: 'tcp', seq: i, pad }) + '\n';
      if (i === N - 1) tcp.write(line, () => (lastWritten = true));
      else tcp.write(line);
    }
    const tcpAccepted = () => metric(/collector_input_records_total\{input="tcp\.0"\} (\d+)/);
    // The input reads until the buffer is full, then stops: its count stays put.
    await waitFor(async () => (await tcpAccepted()) > 0);
    let before = -1;
    await waitFor(async () => {
      const now = await tcpAccepted();
      const still = now === before;
      before = now;
      await new Promise((r) => setTimeout(r, 300));
      return still;
    }, 20_000);
    expect(before).toBeLessThan(N);
    expect(lastWritten).toBe(false); // the sender is held back, its last line still unsent
    expect(tcp.writableLength).toBeGreaterThan(0);

    // HTTP: refused with a coded 503 while full.
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await postHttp(i);
      statuses.push(r.status);
      if (r.status === 201) acceptedHttp.push(i);
      else {
        expect(r.status).toBe(503);
        expect(r.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_COLLECTOR_BUFFER_FULL');
        expect(r.headers.get('retry-after')).toBe('1');
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe(
          'SPROUT_ERR_COLLECTOR_BUFFER_FULL',
        );
      }
    }
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);

    // UDP (syslog with the json parser, statsd, collectd): cannot push back; dropped datagrams are
    // counted per input.
    const M = 200;
    for (let i = 0; i < M; i++) {
      await sendUdp(i);
      await new Promise<void>((r) => udp.send(`hits:${i}|c`, port(3), '127.0.0.1', () => r()));
      await sendCollectd(i);
      if (i % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    udp.close();
    const droppedUdp = (input: string) =>
      metric(new RegExp(`collector_input_dropped_total\\{input="${input}",reason="buffer_full"\\} (\\d+)`));
    await waitFor(
      async () =>
        (await droppedUdp('syslog.0')) > 0 &&
        (await droppedUdp('statsd.0')) > 0 &&
        (await droppedUdp('collectd.0')) > 0,
    );
    const udpAccepted = await udpRecords();
    expect(udpAccepted - 5 + (await droppedUdp('syslog.0'))).toBeLessThanOrEqual(M);
    const collectdAccepted = await collectdRecords();
    expect(collectdAccepted - 3 + (await droppedUdp('collectd.0'))).toBeLessThanOrEqual(M);

    // Throughout, the disk held no more than the limit.
    clearInterval(sampler);
    expect(maxOnDisk).toBeGreaterThan(LIMIT / 2);
    expect(maxOnDisk).toBeLessThanOrEqual(LIMIT);
    expect(await metric(/collector_output_buffer_bytes\{output="out"\} (\d+)/)).toBeLessThanOrEqual(LIMIT);
    expect(await metric(/collector_output_dropped_records_total\{output="out"\} (\d+)/)).toBe(0);

    // The output comes back: everything accepted arrives, each TCP line once the sender is let go.
    const got: Array<{ src: string; seq: number; plugin?: string; type_instance?: string }> = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        for (const l of text.split('\n')) if (l) got.push(JSON.parse(l) as (typeof got)[number]);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(down, '127.0.0.1', r));
    tcp.end();
    const seqs = (src: string) => new Set(got.filter((g) => g.src === src).map((g) => g.seq));
    await waitFor(() => seqs('tcp').size === N, 60_000);
    const collectdSeqs = () =>
      new Set(got.filter((g) => g.plugin === 'flood').map((g) => Number(g.type_instance)));
    await waitFor(
      () =>
        seqs('http').size === acceptedHttp.length &&
        seqs('udp').size === udpAccepted &&
        collectdSeqs().size === collectdAccepted,
      20_000,
    );
    // The collectd gauges taken before the buffer filled are among those delivered.
    expect([2000, 2001, 2002].every((n) => collectdSeqs().has(n))).toBe(true);
    expect([...seqs('http')].sort((a, b) => a - b)).toEqual(acceptedHttp);
    expect(got.filter((g) => g.src === 'tcp')).toHaveLength(N); // once each
    await waitFor(() => chunkBytes(chunks) === 0);
    await c.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }, 120_000);
});
