import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMulti, encode } from '@msgpack/msgpack';
import fluentOrg from '@fluent-org/logger';
import fluentLogger from 'fluent-logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollector, parseConfig } from '../src/index.js';
import { encodePing, passwordDigest, sharedKeyDigest } from '../src/forward/handshake.js';
import { mutate, splitRandomly } from './fuzz.js';
import { quiet, startCapture, waitFor } from './helpers.js';

const { FluentClient, EventTime } = fluentOrg;
type Mode = 'Message' | 'Forward' | 'PackedForward' | 'CompressedPackedForward';

// Real peers: the official Fluentd client SDKs for Node (@fluent-org/logger, fluent-logger).
describe('forward input with the Fluentd client SDKs', () => {
  let h: Awaited<ReturnType<typeof startCapture>>;
  const clients: Array<{ disconnect(): Promise<void> }> = [];
  beforeAll(async () => {
    h = await startCapture(`
service: { flush: 0.05 }
pipeline:
  inputs:
    - { name: forward, listen: 127.0.0.1, port: 0 }
    - { name: forward, listen: 127.0.0.1, port: 0, tag_prefix: 'in.', ack: on }
    - { name: forward, listen: 127.0.0.1, port: 0, tag: fixed, buffer_max_size: 2K, buffer_chunk_size: 1K }
  outputs:
    - { name: stdout, match: '*' }
`);
  });
  afterAll(async () => {
    for (const c of clients) await c.disconnect().catch(() => undefined);
    await h?.c.close();
  });
  const got = (tag: string) => (h.got.get('stdout.0') ?? []).filter((r) => r.tag === tag);

  const sdk = (port: number, eventMode: Mode, ack: boolean, prefix: string) => {
    const c = new FluentClient(prefix, {
      eventMode,
      socket: { host: '127.0.0.1', port, timeout: 10_000 },
      ...(ack ? { ack: { ackTimeout: 10_000 } } : {}),
      milliseconds: true,
      flushInterval: 20,
    });
    clients.push(c);
    return c;
  };

  for (const mode of ['Message', 'Forward', 'PackedForward', 'CompressedPackedForward'] as const) {
    for (const ack of [false, true]) {
      it(`@fluent-org/logger ${mode}${ack ? ' with ack' : ''}: every event, its tag, body and EventTime`, async () => {
        const prefix = `sdk.${mode.toLowerCase()}.${ack ? 'ack' : 'noack'}`;
        const c = sdk(h.port(0), mode, ack, prefix);
        const sent = Array.from({ length: 25 }, (_, i) => ({
          i,
          msg: `hello ${i}`,
          nested: { ok: true, n: [1, 2] },
        }));
        // Explicit EventTimes with nanoseconds that a float or integer time could not carry.
        await Promise.all(
          sent.map((body, i) => c.emit('app', body, new EventTime(1_700_000_000 + i, 123_456_789))),
        );
        const tag = `${prefix}.app`;
        await waitFor(() => got(tag).length >= sent.length);
        const records = got(tag).sort((a, b) => (a.body.i as number) - (b.body.i as number));
        expect(records.map((r) => r.body)).toEqual(sent);
        expect(records.map((r) => r.time)).toEqual(
          sent.map((_, i) => BigInt(1_700_000_000 + i) * 1_000_000_000n + 123_456_789n),
        );
      });
    }
  }

  it('@fluent-org/logger: integer-second timestamps (milliseconds off) and tag_prefix; ack only after every output accepted (ack: on)', async () => {
    const c = new FluentClient('plain', {
      eventMode: 'Forward',
      socket: { host: '127.0.0.1', port: h.port(1), timeout: 10_000 },
      ack: { ackTimeout: 10_000 },
    });
    clients.push(c);
    await c.emit('secs', { a: 1 }, new Date(1_700_000_123_456));
    // With ack: on the ack is sent after the stdout output took the record, so it is already there.
    expect(got('in.plain.secs').map((r) => [r.time, r.body])).toEqual([
      [1_700_000_123n * 1_000_000_000n, { a: 1 }],
    ]);
  });

  it('fluent-logger (v3): Message, PackedForward and CompressedPackedForward with requireAckResponse', async () => {
    for (const eventMode of ['Message', 'PackedForward', 'CompressedPackedForward']) {
      const sender = fluentLogger.createFluentSender(`legacy.${eventMode.toLowerCase()}`, {
        host: '127.0.0.1',
        port: h.port(0),
        eventMode,
        requireAckResponse: true,
        ackResponseTimeout: 10_000,
        flushInterval: 10,
      });
      const time = new fluentLogger.EventTime(1_700_000_500, 42);
      await new Promise<void>((resolve, reject) =>
        sender.emit('x', { mode: eventMode }, time, (err?: Error) => (err ? reject(err) : resolve())),
      );
      await new Promise<void>((resolve, reject) =>
        sender.emit('x', { mode: eventMode, second: true }, (err?: Error) => (err ? reject(err) : resolve())),
      );
      const tag = `legacy.${eventMode.toLowerCase()}.x`;
      await waitFor(() => got(tag).length >= 2);
      expect(got(tag)[0]!.body).toEqual({ mode: eventMode });
      expect(got(tag)[0]!.time).toBe(1_700_000_500n * 1_000_000_000n + 42n);
      expect(got(tag)[1]!.body).toEqual({ mode: eventMode, second: true });
      await new Promise<void>((r) => sender.end(undefined, undefined, () => r()));
    }
  });

  /** A raw client: sends msgpack, collects decoded answers. */
  const raw = async (port: number) => {
    const s: Socket = connect(port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    const answers: unknown[] = [];
    let closed = false;
    s.on('data', (d: Buffer) => answers.push(...decodeMulti(d)));
    s.on('close', () => (closed = true));
    s.on('error', () => undefined);
    return { s, answers, closed: () => closed };
  };
  const rejected = async (input: string, reason: string) => {
    const text = await h.c.metrics.metrics();
    const m = new RegExp(
      `collector_input_rejected_total\\{input="${input}",reason="${reason}"\\} (\\d+)`,
    ).exec(text);
    return m ? Number(m[1]) : 0;
  };

  it('rejects wrong types with a count, keeps the connection and still acks the next valid message', async () => {
    const before = await rejected('forward.0', 'decode');
    const c = await raw(h.port(0));
    c.s.write(encode(['bad', 'not-a-time', { a: 1 }]));
    c.s.write(encode([42, 1, { a: 1 }]));
    c.s.write(encode(['bad', [[1, 'not-a-map']]]));
    c.s.write(encode(['bad', 1, { a: 1 }, { compressed: 'zstd' }]));
    c.s.write(encode(['raw.ok', 1_700_000_000, { fine: true }, { chunk: 'c1' }]));
    await waitFor(() => c.answers.length === 1);
    expect(c.answers).toEqual([{ ack: 'c1' }]);
    expect(await rejected('forward.0', 'decode')).toBe(before + 4);
    await waitFor(() => got('raw.ok').length);
    expect(got('raw.ok').map((r) => r.body)).toEqual([{ fine: true }]);
    expect(got('bad')).toEqual([]);
    c.s.destroy();
  });

  it('refuses a message over buffer_max_size (coded too_large) and closes that connection; the input keeps serving', async () => {
    const c = await raw(h.port(2));
    c.s.write(encode(['big', 1, { blob: 'x'.repeat(4096) }, { chunk: 'big' }]));
    await waitFor(() => c.closed());
    expect(c.answers).toEqual([]);
    expect(await rejected('forward.2', 'too_large')).toBe(1);
    const ok = await raw(h.port(2));
    ok.s.write(encode(['small', 1, { small: true }, { chunk: 's' }]));
    await waitFor(() => ok.answers.length === 1);
    // `tag` set on the input overrides the forwarded tag.
    await waitFor(() => got('fixed').length);
    expect(got('fixed').map((r) => r.body)).toEqual([{ small: true }]);
    ok.s.destroy();
  });

  it('garbage bytes are rejected and counted; the server stays up', async () => {
    const before = await rejected('forward.0', 'decode');
    const c = await raw(h.port(0));
    c.s.write(Buffer.from([0x93, 0xc1, 0x00, 0x00]));
    await waitFor(() => c.closed());
    expect(await rejected('forward.0', 'decode')).toBe(before + 1);
    const ok = await raw(h.port(0));
    ok.s.write(encode(['after.garbage', 1, { a: 1 }, { chunk: 'g' }]));
    await waitFor(() => ok.answers.length === 1);
    ok.s.destroy();
  });

  it('shared key and users: the SDK passes the HELO/PING/PONG handshake; a wrong key is refused and counted', async () => {
    const secured = await startCapture(`
service: { flush: 0.02 }
pipeline:
  inputs:
    - name: forward
      listen: 127.0.0.1
      port: 0
      shared_key: s3cret
      self_hostname: collector.test
      security.users: [alice wonder land, bob builder]
  outputs: [{ name: stdout, match: '*' }]
`);
    try {
      const c = new FluentClient('sec', {
        eventMode: 'Forward',
        socket: { host: '127.0.0.1', port: secured.port(), timeout: 10_000 },
        security: {
          clientHostname: 'sdk.client',
          sharedKey: 's3cret',
          username: 'alice',
          password: 'wonder land',
        },
        ack: { ackTimeout: 10_000 },
      });
      clients.push(c);
      await c.emit('in', { authed: true });
      await waitFor(() => (secured.got.get('stdout.0') ?? []).length === 1);
      expect(secured.got.get('stdout.0')![0]!.body).toEqual({ authed: true });

      // A client with the wrong key gets PONG false and is disconnected; nothing is taken from it.
      const r = await raw(secured.port());
      await waitFor(() => r.answers.length === 1);
      const helo = r.answers[0] as [string, { nonce: Uint8Array; auth: Uint8Array }];
      expect(helo[0]).toBe('HELO');
      const salt = 'salt';
      r.s.write(
        encodePing({
          hostname: 'intruder',
          salt: Buffer.from(salt),
          digest: sharedKeyDigest(salt, 'intruder', helo[1].nonce, 'wrong'),
          username: 'alice',
          passwordDigest: passwordDigest(helo[1].auth, 'alice', 'wonder land'),
        }),
      );
      r.s.write(encode(['sneaky', 1, { a: 1 }]));
      await waitFor(() => r.closed());
      expect(r.answers[1]).toEqual(['PONG', false, 'shared key mismatch', 'collector.test', '']);
      const text = await secured.c.metrics.metrics();
      expect(text).toMatch(/collector_input_rejected_total\{input="forward.0",reason="protocol"\} 1/);
      expect((secured.got.get('stdout.0') ?? []).map((x) => x.tag)).toEqual(['sec.in']);
    } finally {
      await secured.c.close();
    }
  });

  it('a valid stream cut at random points over a real socket: every event arrives, nothing rejected', async () => {
    const before = await rejected('forward.0', 'decode');
    const msgs = Array.from({ length: 40 }, (_, i) =>
      encode(
        i % 2
          ? ['split.fw', [[1_700_000_000, { i }]], { chunk: `s${i}` }]
          : ['split.msg', 1_700_000_000, { i, pad: 'x'.repeat(i * 37) }, { chunk: `s${i}` }],
      ),
    );
    const c = await raw(h.port(0));
    for (const piece of splitRandomly(Buffer.concat(msgs), 60)) {
      c.s.write(piece);
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => c.answers.length === msgs.length);
    await waitFor(() => got('split.fw').length + got('split.msg').length === msgs.length);
    expect(await rejected('forward.0', 'decode')).toBe(before);
    c.s.destroy();
  });

  it('listens on a unix socket (unix_path, unix_perm) and the forward output sends over one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'collector-fwd-unix-'));
    const path = join(dir, 'forward.sock');
    const rx = await startCapture(`
service: { flush: 0.02 }
pipeline:
  inputs: [{ name: forward, unix_path: ${path}, unix_perm: '0600' }]
  outputs: [{ name: stdout, match: '*' }]
`);
    const tx = createCollector(
      parseConfig(
        `service: { flush: 0.02 }\npipeline:\n  outputs: [{ name: forward, match: '*', unix_path: ${path}, require_ack_response: on }]\n`,
      ),
      { logger: quiet },
    );
    try {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      await tx.start();
      await tx.push({ tag: 'unix.app', body: { over: 'unix' } });
      await tx.flush();
      await waitFor(() => (rx.got.get('stdout.0') ?? []).length === 1);
      expect(rx.got.get('stdout.0')![0]!.body).toEqual({ over: 'unix' });
    } finally {
      await tx.close();
      await rx.c.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ack: on and the only output gives up: no ack is sent, so the SDK sees its emit fail', async () => {
    const failing = createCollector(
      parseConfig(`
service: { flush: 0.02 }
pipeline:
  inputs: [{ name: forward, listen: 127.0.0.1, port: 0, ack: on }]
  outputs: [{ name: http, match: '*', host: 127.0.0.1, port: 1, retry_limit: no_retries }]
`),
      { logger: quiet },
    );
    await failing.start();
    try {
      const c = new FluentClient('noack', {
        eventMode: 'Message',
        socket: { host: '127.0.0.1', port: failing.inputs()[0]!.address!.port!, timeout: 10_000 },
        ack: { ackTimeout: 1500 },
        eventRetry: { attempts: 1 },
      });
      clients.push(c);
      // Each send (the SDK retries once) is dropped by the output, so no ack ever comes.
      await expect(c.emit('x', { undeliverable: true })).rejects.toThrow(/ack response timeout/);
      const m = await failing.metrics.metrics();
      const sent = /collector_input_records_total\{input="forward.0"\} (\d+)/.exec(m)![1];
      expect(m).toContain(`collector_output_dropped_records_total{output="http.0"} ${sent}`);
    } finally {
      await failing.close();
    }
  });

  it('fuzz over sockets: garbage and mutated messages on many connections; the server stays up and counts them', async () => {
    const valid = Buffer.from(encode(['fz', [[1_700_000_000, { a: 1 }]], { chunk: 'v' }]));
    const total = async () => {
      const text = await h.c.metrics.metrics();
      return [
        ...text.matchAll(/collector_input_rejected_total\{input="forward.0",reason="\w+"\} (\d+)/g),
      ].reduce((n, m) => n + Number(m[1]), 0);
    };
    const before = await total();
    await Promise.all(
      Array.from(
        { length: 30 },
        (_, i) =>
          new Promise<void>((resolve) => {
            const s = connect(h.port(0), '127.0.0.1', () => {
              const bytes = i % 3 === 0 ? randomBytes(randomInt(1, 400)) : mutate(valid, randomInt(1, 6));
              for (const piece of splitRandomly(Buffer.concat([bytes, i % 2 ? valid : Buffer.alloc(0)]), 5)) {
                s.write(piece);
              }
              s.end();
            });
            s.on('error', () => undefined);
            s.on('data', () => undefined);
            s.on('close', () => resolve());
          }),
      ),
    );
    expect(await total()).toBeGreaterThan(before);
    const ok = await raw(h.port(0));
    ok.s.write(encode(['after.fuzz', 1, { fine: true }, { chunk: 'f' }]));
    await waitFor(() => ok.answers.length === 1);
    expect(ok.answers).toEqual([{ ack: 'f' }]);
    ok.s.destroy();
  });

  it('refuses security.users without a shared key and an oversized buffer_chunk_size at config time', () => {
    expect(() =>
      parseConfig("pipeline:\n  inputs:\n    - { name: forward, security.users: 'a b' }\n"),
    ).toThrow(/security.users needs shared_key/);
    expect(() =>
      parseConfig(
        'pipeline:\n  inputs:\n    - { name: forward, buffer_chunk_size: 2M, buffer_max_size: 1M }\n',
      ),
    ).toThrow(/buffer_chunk_size must not exceed buffer_max_size/);
  });
});
