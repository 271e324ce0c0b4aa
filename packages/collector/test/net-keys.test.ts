import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { createLogger } from '@sprout/observe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollector, parseConfig, type Collector } from '../src/index.js';
import { STREAM_MAX_CONNECTIONS } from '../src/inputs/net.js';
import { inputRefusal, openSocket, run, waitFor } from './helpers.js';
import { makeTestCerts, type TestCerts } from './tls-certs.js';

/** A JSON logger whose lines land in `into`. */
function capturingLogger(level: 'debug' | 'info', into: string[]) {
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      into.push(chunk.toString());
      cb();
    },
  });
  return createLogger({ level, format: 'json', destination });
}

/** What `ss` shows for the listening socket on `port`: its backlog is the Send-Q column. */
async function backlogOf(port: number): Promise<string> {
  const { stdout } = await run('ss', ['-ltnH', `sport = :${port}`]);
  return stdout.trim().split(/\s+/)[2]!;
}

/** `ss -o` of the server's side of established connections on `port` (timers included). */
async function established(port: number): Promise<string> {
  return (await run('ss', ['-tnoH', 'state', 'established', `sport = :${port}`])).stdout;
}

// Checked on the real sockets: ss shows backlogs and keepalive timers, the server's closes are seen by clients.
describe('net.* keys on the stream inputs (tcp, syslog tcp, mqtt, forward)', () => {
  let c: Collector;
  let certs: TestCerts;
  const logs: string[] = [];
  beforeAll(async () => {
    certs = await makeTestCerts();
    const tls = `tls: on, tls.crt_file: ${certs.serverCrt}, tls.key_file: ${certs.serverKey}`;
    const logger = capturingLogger('debug', logs);
    c = createCollector(
      parseConfig(`
pipeline:
  inputs:
    - { name: tcp, listen: 127.0.0.1, port: 0, net.io_timeout: 1s, net.backlog: 9 }
    - { name: tcp, listen: 127.0.0.1, port: 0 }
    - { name: syslog, mode: tcp, listen: 127.0.0.1, port: 0, net.backlog: 33, net.io_timeout: 1s }
    - { name: mqtt, listen: 127.0.0.1, port: 0, net.tcp_keepalive: on, net.tcp_keepalive_time: 30 }
    - { name: forward, listen: 127.0.0.1, port: 0, net.io_timeout: 1, net.keepalive: on }
    - { name: tcp, listen: 127.0.0.1, port: 0, ${tls}, net.accept_timeout: 1s }
    - { name: tcp, listen: 127.0.0.1, port: 0, ${tls}, net.accept_timeout: 1s, net.accept_timeout_log_error: off }
  outputs:
    - { name: 'null', match: '*' }
`),
      { logger },
    );
    await c.start();
  }, 60_000);
  afterAll(async () => {
    await c?.close();
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  });
  const port = (i: number) => c.inputs()[i]!.address!.port!;

  it("net.backlog reaches listen(); fluent-bit's 128 when unset", async () => {
    expect(await backlogOf(port(0))).toBe('9');
    expect(await backlogOf(port(1))).toBe('128');
    expect(await backlogOf(port(2))).toBe('33');
  });

  it('net.io_timeout closes idle connections of tcp, syslog and forward; without it they stay', async () => {
    const control = await openSocket(port(1));
    const idle = await Promise.all([openSocket(port(0)), openSocket(port(2)), openSocket(port(4))]);
    // Data resets the clock: a connection that keeps sending is not idle.
    const busy = await openSocket(port(0));
    const ticker = setInterval(() => busy.s.write('{"tick":1}\n'), 200);
    try {
      await Promise.all(idle.map((x) => x.closed));
      expect(control.isClosed()).toBe(false);
      expect(busy.isClosed()).toBe(false);
    } finally {
      clearInterval(ticker);
      control.s.destroy();
      busy.s.destroy();
    }
  });

  it('a stream input holds at most STREAM_MAX_CONNECTIONS: one more is closed, records still flow after', async () => {
    const held = [];
    for (let i = 0; i < STREAM_MAX_CONNECTIONS; i += 64)
      held.push(...(await Promise.all(Array.from({ length: 64 }, () => openSocket(port(1))))));
    try {
      // The server counts a connection once it has accepted it: wait until all are in.
      await waitFor(
        async () => (await established(port(1))).trim().split('\n').length >= STREAM_MAX_CONNECTIONS,
      );
      const extra = await openSocket(port(1));
      await extra.closed;
      expect(held.some((h) => h.isClosed())).toBe(false);
    } finally {
      for (const h of held) h.s.destroy();
    }
    const records = async () =>
      Number(
        /collector_input_records_total\{input="tcp\.1"\} (\d+)/.exec(await c.metrics.metrics())?.[1] ?? 0,
      );
    const before = await records();
    await waitFor(async () => (await established(port(1))).trim() === '');
    const good = await openSocket(port(1));
    good.s.end('{"after":"cap"}\n');
    await waitFor(async () => (await records()) === before + 1);
  }, 60_000);

  it('net.tcp_keepalive turns TCP keepalive on for accepted connections (mqtt)', async () => {
    const on = await openSocket(port(3));
    const off = await openSocket(port(1));
    try {
      expect(await established(port(3))).toMatch(/timer:\(keepalive,/);
      expect(await established(port(1))).not.toMatch(/keepalive/);
    } finally {
      on.s.destroy();
      off.s.destroy();
    }
  });

  it('net.accept_timeout ends a TLS handshake that does not come; net.accept_timeout_log_error picks the level', async () => {
    const loud = await openSocket(port(5));
    const hushed = await openSocket(port(6));
    await Promise.all([loud.closed, hushed.closed]);
    await waitFor(() => logs.filter((l) => l.includes('net.accept_timeout')).length === 2);
    const lines = logs
      .filter((l) => l.includes('net.accept_timeout'))
      .map((l) => JSON.parse(l) as { level: string });
    expect(lines.map((l) => l.level).sort()).toEqual(['debug', 'error']);
  });
});

describe('log_level of an input', () => {
  it('an input with log_level: error does not log its rejections; one without does', async () => {
    const lines: string[] = [];
    const logger = capturingLogger('info', lines);
    const c = createCollector(
      parseConfig(`
pipeline:
  inputs:
    - { name: tcp, listen: 127.0.0.1, port: 0, alias: loud }
    - { name: tcp, listen: 127.0.0.1, port: 0, alias: hushed, log_level: error }
  outputs:
    - { name: 'null', match: '*' }
`),
      { logger },
    );
    await c.start();
    try {
      for (const i of [1, 0]) {
        const s = await openSocket(c.inputs()[i]!.address!.port!);
        s.s.end('not json at all\n');
        await s.closed;
      }
      const rejected = (id: string) =>
        lines.filter((l) => l.includes('input rejected a message') && l.includes(`"input":"${id}"`));
      await waitFor(() => rejected('loud').length >= 1);
      const m = await c.metrics.metrics();
      // Both rejected the bytes (counted); only the one at info logged it.
      expect(m).toMatch(/collector_input_rejected_total\{input="hushed",reason="[a-z_]+"\} [1-9]/);
      expect(rejected('hushed')).toEqual([]);
    } finally {
      await c.close();
    }
  });
});

describe('net.* keys an input cannot honour are refused, naming why', () => {
  it.each([
    ['{ name: tcp, port: 0, net.keepalive: off }', /cannot be off on a stream input/],
    ['{ name: mqtt, port: 0, net.keepalive_idle_timeout: 10s }', /use net.io_timeout/],
    ['{ name: forward, port: 0, net.connect_timeout: 5s }', /applies to outputs/],
    ['{ name: syslog, mode: udp, port: 0, net.io_timeout: 5s }', /mode udp has none/],
    ['{ name: syslog, mode: udp, port: 0, format: octet_counting }', /each datagram is one message/],
    ['{ name: tcp, port: 0, net.source_address: 10.0.0.1 }', /applies to outputs/],
    ['{ name: tcp, port: 0, workers: 2 }', /workers above 1/],
  ])('%s', async (input, message) => {
    const e = await inputRefusal(input);
    expect(e.code).toBe('SPROUT_ERR_COLLECTOR_CONFIG_INVALID');
    expect(e.message).toMatch(message);
  });
});
