import { connect as h2Connect } from 'node:http2';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttExternalScaler } from '../src/index.js';
import { makeCerts, type TestCerts } from './certs.js';
import { waitFor } from './conformance.js';
import { call, callError, ref, scalerClient, type ScalerClient } from './scaler-client.js';

const TOPIC = `sprout-scaler-limits-${process.pid}-${Date.now().toString(36)}`;
const BROKER = 'tcp://127.0.0.1:1883';
const md = ref({ topic: TOPIC });

/** Raw TCP connections that send nothing (a flood of half-open clients); `closed` counts the ones the server closed. */
async function openSilent(port: number, n: number): Promise<{ sockets: Socket[]; closed: () => number }> {
  let closed = 0;
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = tcpConnect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('close', () => closed++);
    s.resume();
    await new Promise<void>((r) => {
      s.once('connect', () => r());
      s.once('close', () => r());
    });
    sockets.push(s);
  }
  return { sockets, closed: () => closed };
}

/** A stream call that stays open (the scaler counts it as a call in progress); resolves on its first answer. */
async function openStream(c: ScalerClient): Promise<{ cancel(): void }> {
  const s = c.StreamIsActive(md);
  s.on('error', () => undefined);
  await new Promise((r) => s.once('data', r));
  return s;
}

describe('the MQTT scaler keeps its limits (the attack each one stops)', () => {
  const clients: ScalerClient[] = [];
  const client = (address: string) => {
    const c = scalerClient(address);
    clients.push(c);
    return c;
  };
  afterAll(() => clients.forEach((c) => c.close()));

  it('a flood of silent connections over the cap evicts idle ones; a client in a call keeps working, a new one gets in', async () => {
    const scaler = await MqttExternalScaler.listen({
      url: BROKER,
      streamIntervalMs: 100,
      limits: { maxConnections: 4, idleTimeoutMs: 2_000 },
    });
    try {
      const a = client(scaler.address);
      const stream = await openStream(a);
      const flood = await openSilent(scaler.port, 12);
      // At most 4 connections: the stream's and 3 silent ones; the other 9 were closed.
      await waitFor(() => flood.closed() >= 9, '9 of 12 silent connections closed');
      expect(flood.closed()).toBeLessThanOrEqual(12);
      expect(await call(a, 'IsActive', md)).toEqual({ result: false });
      // A new client evicts a silent connection to get in.
      expect(await call(client(scaler.address), 'IsActive', md)).toEqual({ result: false });
      // The silent ones left are closed once idle for idleTimeoutMs (a stalled handshake included).
      await waitFor(() => flood.closed() === 12, 'every silent connection closed when idle', 10_000);
      stream.cancel();
    } finally {
      await scaler.close();
    }
  }, 30_000);

  it('a quiet stream outlives the idle timeout: a connection in a call is not idle', async () => {
    const scaler = await MqttExternalScaler.listen({
      url: BROKER,
      streamIntervalMs: 100,
      limits: { idleTimeoutMs: 600 },
    });
    try {
      const s = client(scaler.address).StreamIsActive(md);
      const ended: string[] = [];
      s.on('error', (e: Error) => ended.push(e.message));
      s.on('end', () => ended.push('end'));
      await new Promise((r) => s.once('data', r));
      // Nothing changes on the topic, so the stream writes nothing more for 4 idle timeouts.
      await new Promise((r) => setTimeout(r, 2_500));
      expect(ended).toEqual([]);
      s.cancel();
    } finally {
      await scaler.close();
    }
  });

  it('a request never finished (HTTP/2 up, half a gRPC frame) is closed when idle, though HTTP/2 answers pings', async () => {
    const scaler = await MqttExternalScaler.listen({ url: BROKER, limits: { idleTimeoutMs: 600 } });
    try {
      const h2 = h2Connect(`http://127.0.0.1:${scaler.port}`);
      h2.on('error', () => undefined);
      const closed = new Promise<void>((r) => h2.once('close', () => r()));
      const req = h2.request({
        ':method': 'POST',
        ':path': '/externalscaler.ExternalScaler/IsActive',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      req.on('error', () => undefined);
      req.write(Buffer.from([0, 0, 0])); // 3 of the 5 bytes of a message header, and no more
      await closed;
    } finally {
      await scaler.close();
    }
  });

  it('when every connection is busy with a call, a new connection is refused', async () => {
    const scaler = await MqttExternalScaler.listen({
      url: BROKER,
      streamIntervalMs: 100,
      limits: { maxConnections: 2 },
    });
    try {
      const streams = [await openStream(client(scaler.address)), await openStream(client(scaler.address))];
      const err = await callError(client(scaler.address), 'IsActive', md, 2_000);
      expect([4, 14]).toContain(err?.code); // DEADLINE_EXCEEDED or UNAVAILABLE: never connected
      streams.forEach((s) => s.cancel());
      // Once the calls ended their connections may be evicted: a new client gets in.
      await waitFor(
        async () => (await callError(client(scaler.address), 'IsActive', md, 2_000)) === undefined,
        'a new client once the streams ended',
      );
    } finally {
      await scaler.close();
    }
  }, 30_000);

  it('refuses a request over the message size limit with RESOURCE_EXHAUSTED and goes on serving', async () => {
    const scaler = await MqttExternalScaler.listen({ url: BROKER, limits: { maxMessageBytes: 4096 } });
    try {
      const c = client(scaler.address);
      const big = ref({ topic: TOPIC, padding: 'x'.repeat(8192) });
      const err = await callError(c, 'IsActive', big);
      expect(err?.code).toBe(8); // RESOURCE_EXHAUSTED
      expect(err?.details).toMatch(/larger than max/);
      expect(await call(c, 'IsActive', md)).toEqual({ result: false });
    } finally {
      await scaler.close();
    }
  });

  it('answers DEADLINE_EXCEEDED when the broker does not answer within callTimeoutMs', async () => {
    // A "broker" that accepts the TCP connection and never answers MQTT's CONNECT.
    const mute: Server = createServer((s) => s.on('error', () => undefined));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const url = `tcp://127.0.0.1:${(mute.address() as { port: number }).port}`;
    const scaler = await MqttExternalScaler.listen({ url, limits: { callTimeoutMs: 300 } });
    try {
      const err = await callError(client(scaler.address), 'IsActive', md, 20_000);
      expect(err?.code).toBe(4); // DEADLINE_EXCEEDED, from the scaler, not the client's 20 s
      expect(err?.details).toMatch(/no answer within 300 ms/);
    } finally {
      await scaler.close();
      mute.close();
    }
  }, 30_000);

  it('ends a StreamIsActive call cleanly (OK) after streamMaxMs, so KEDA reopens it at once', async () => {
    const scaler = await MqttExternalScaler.listen({
      url: BROKER,
      streamIntervalMs: 100,
      limits: { streamMaxMs: 500 },
    });
    try {
      const s = client(scaler.address).StreamIsActive(md) as NodeJS.ReadableStream & {
        on(e: 'status', l: (st: { code: number }) => void): unknown;
      };
      const code = await new Promise<number>((resolve) => {
        s.on('data', () => undefined);
        s.on('error', (e: { code: number }) => resolve(e.code));
        s.on('status', (st) => resolve(st.code));
      });
      expect(code).toBe(0);
    } finally {
      await scaler.close();
    }
  });

  it('refuses limits that are not whole numbers > 0, naming the field', async () => {
    await expect(
      MqttExternalScaler.listen({ url: BROKER, limits: { maxConnections: 0 } }),
    ).rejects.toMatchObject({
      code: 'SPROUT_ERR_TRIGGERS_SCALER_INVALID',
      field: 'maxConnections',
    });
  });
});

describe("the MQTT scaler over TLS (KEDA's enableTLS, caCert, tlsClientCert, tlsClientKey)", () => {
  let certs: TestCerts;
  let read: (f: string) => Buffer;
  let scaler: MqttExternalScaler;
  const clients: ScalerClient[] = [];
  const client = (creds = credentials.createInsecure()) => {
    const c = scalerClient(scaler.address, creds);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    certs = makeCerts();
    read = certs.read;
    scaler = await MqttExternalScaler.listen({
      url: BROKER,
      tls: { cert: read('server.crt'), key: read('server.key'), clientCa: read('ca.crt') },
    });
  }, 60_000);
  afterAll(async () => {
    clients.forEach((c) => c.close());
    await scaler?.close();
    certs?.remove();
  });

  it('serves a client with a certificate of the CA, as KEDA connects with caCert + tlsClientCert/Key', async () => {
    const c = client(credentials.createSsl(read('ca.crt'), read('keda.key'), read('keda.crt')));
    expect(await call(c, 'IsActive', md)).toEqual({ result: false });
  });

  it('refuses plaintext, a TLS client without a certificate, and a certificate of another CA', async () => {
    for (const [what, creds] of [
      ['plaintext', credentials.createInsecure()],
      ['no client certificate', credentials.createSsl(read('ca.crt'))],
      ['another CA', credentials.createSsl(read('ca.crt'), read('rogue.key'), read('rogue.crt'))],
    ] as const) {
      const err = await callError(client(creds), 'IsActive', md, 3_000);
      expect([4, 14], what).toContain(err?.code); // never answered: DEADLINE_EXCEEDED or UNAVAILABLE
    }
  });

  it('without clientCa, TLS alone (enableTLS + caCert) is enough, and a client that does not trust the server is refused', async () => {
    const plain = await MqttExternalScaler.listen({
      url: BROKER,
      tls: { cert: read('server.crt'), key: read('server.key') },
    });
    try {
      const ok = scalerClient(plain.address, credentials.createSsl(read('ca.crt')));
      const wrong = scalerClient(plain.address, credentials.createSsl(read('rogue-ca.crt')));
      clients.push(ok, wrong);
      expect(await call(ok, 'IsActive', md)).toEqual({ result: false });
      expect([4, 14]).toContain((await callError(wrong, 'IsActive', md, 3_000))?.code);
    } finally {
      await plain.close();
    }
  });
});
