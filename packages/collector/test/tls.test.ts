import { rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import fluentOrg from '@fluent-org/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollector, parseConfig } from '../src/index.js';
import { quiet, run, startCapture, waitFor } from './helpers.js';
import { makeTestCerts, type TestCerts } from './tls-certs.js';

/** Writes `data` over TLS (trusting `ca`, optionally with a client certificate) and closes. */
function sendTls(port: number, ca: string, data: string, client?: { cert: string; key: string }) {
  return new Promise<void>((resolve, reject) => {
    const s = tlsConnect({
      host: '127.0.0.1',
      port,
      ca: readFileSync(ca),
      ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
    });
    s.on('secureConnect', () => s.end(data));
    s.on('error', reject);
    s.on('close', () => resolve());
  });
}

/** The coded error starting a collector from `yaml` fails with. */
async function failure(yaml: string): Promise<{ code?: string; message: string }> {
  try {
    const c = createCollector(parseConfig(yaml), { logger: quiet });
    await c.start();
    await c.close();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('the collector started');
}

// Real peers: node:tls, curl and mosquitto_pub against certificates the openssl CLI makes here.
describe('TLS on the tcp, syslog (tcp), http and mqtt inputs', () => {
  let certs: TestCerts;
  let h: Awaited<ReturnType<typeof startCapture>>;
  beforeAll(async () => {
    certs = await makeTestCerts();
    const server = `tls: on, tls.crt_file: ${certs.serverCrt}, tls.key_file: ${certs.serverKey}`;
    h = await startCapture(`
service: { flush: 0.05 }
pipeline:
  inputs:
    - { name: tcp, listen: 127.0.0.1, port: 0, tag: t.tcp, ${server} }
    - { name: syslog, mode: tcp, listen: 127.0.0.1, port: 0, tag: t.syslog, tls: on, tls.crt_file: ${certs.serverCrt}, tls.key_file: ${certs.serverKeyEncrypted}, tls.key_passwd: secret }
    - { name: http, listen: 127.0.0.1, port: 0, tag: t.mtls, ${server}, tls.verify: on, tls.ca_file: ${certs.ca} }
    - { name: mqtt, listen: 127.0.0.1, port: 0, tag: t.mqtt, ${server}, tls.min_version: TLSv1.2 }
    - { name: http, listen: 127.0.0.1, port: 0, tag: t.https, ${server}, tls.verify: off, tls.ca_file: ${certs.ca} }
    - { name: forward, listen: 127.0.0.1, port: 0, tag: t.fwd, ${server} }
  outputs:
    - { name: stdout, match: 't.*' }
`);
  }, 60_000);
  afterAll(async () => {
    await h?.c.close();
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  });
  const bodies = (tag: string) =>
    (h.got.get('stdout.0') ?? []).filter((r) => r.tag === tag || r.tag.startsWith(`${tag}/`));

  it('tcp: records over TLS; a plain-text connection gives no record and the input keeps serving', async () => {
    await new Promise<void>((resolve) => {
      const s = netConnect(h.port(0), '127.0.0.1', () => s.end('{"plain":1}\n'));
      s.on('error', () => resolve());
      s.on('close', () => resolve());
    });
    await sendTls(h.port(0), certs.ca, '{"over":"tls"}\n');
    await waitFor(() => bodies('t.tcp').length > 0);
    expect(bodies('t.tcp').map((r) => r.body)).toEqual([{ over: 'tls' }]);
  });

  it("forward over TLS: the Fluentd SDK's client with its tls socket option", async () => {
    const c = new fluentOrg.FluentClient('sdk', {
      eventMode: 'Forward',
      socket: { host: '127.0.0.1', port: h.port(5), timeout: 10_000, tls: { ca: readFileSync(certs.ca) } },
      ack: { ackTimeout: 10_000 },
    });
    try {
      await c.emit('event', { over: 'tls' });
    } finally {
      await c.shutdown();
    }
    await waitFor(() => bodies('t.fwd').length > 0);
    expect(bodies('t.fwd').map((r) => r.body)).toEqual([{ over: 'tls' }]);
  });

  it('syslog over TLS (tcp mode) with an encrypted key and tls.key_passwd', async () => {
    const msg = '<13>1 2024-01-02T03:04:05Z host app 7 - - over tls';
    await sendTls(h.port(1), certs.ca, `${Buffer.byteLength(msg)} ${msg}`);
    await waitFor(() => bodies('t.syslog').length > 0);
    expect(bodies('t.syslog')[0]!.body).toEqual({
      pri: 13,
      host: 'host',
      ident: 'app',
      pid: '7',
      message: 'over tls',
    });
  });

  it('http with tls.verify on and tls.ca_file: curl needs a client certificate that CA signed', async () => {
    const url = `https://127.0.0.1:${h.port(2)}/t.mtls`;
    const curl = (...extra: string[]) =>
      run('curl', [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--cacert',
        certs.ca,
        ...extra,
        '-H',
        'content-type: application/json',
        '-d',
        '{"from":"curl"}',
        url,
      ]);
    await expect(curl()).rejects.toMatchObject({ code: expect.any(Number) });
    await expect(curl('--cert', certs.otherCrt, '--key', certs.otherKey)).rejects.toMatchObject({
      code: expect.any(Number),
    });
    expect((await curl('--cert', certs.clientCrt, '--key', certs.clientKey)).stdout).toBe('201');
    await waitFor(() => bodies('t.mtls').length > 0);
    expect(bodies('t.mtls').map((r) => r.body)).toEqual([{ from: 'curl' }]);
  });

  it('http with tls.verify off: any client; plain HTTP to the TLS port gets no record', async () => {
    const { stdout } = await run('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--cacert',
      certs.ca,
      '-H',
      'content-type: application/json',
      '-d',
      '{"n":1}',
      `https://127.0.0.1:${h.port(4)}/`,
    ]);
    expect(stdout).toBe('201');
    await expect(
      run('curl', [
        '-sS',
        '-m',
        '5',
        '-H',
        'content-type: application/json',
        '-d',
        '{"n":2}',
        `http://127.0.0.1:${h.port(4)}/`,
      ]),
    ).rejects.toMatchObject({ code: expect.any(Number) });
    await waitFor(() => bodies('t.https').length > 0);
    expect(bodies('t.https').map((r) => r.body)).toEqual([{ n: 1 }]);
  });

  it('mqtt over TLS with mosquitto_pub --cafile', async () => {
    await run('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(h.port(3)),
      '--cafile',
      certs.ca,
      '-q',
      '1',
      '-t',
      'tls/topic',
      '-m',
      '{"secure":true}',
    ]);
    await waitFor(() => bodies('t.mqtt').length > 0);
    expect(bodies('t.mqtt')[0]!.body).toEqual({ topic: 'tls/topic', secure: true });
  });

  it('keys that cannot be used are coded errors naming the key', async () => {
    const base =
      'service: { flush: 1 }\npipeline:\n  outputs: [{ name: "null", match: "*" }]\n  inputs:\n    - ';
    expect(await failure(`${base}{ name: tcp, listen: 127.0.0.1, port: 0, tls: on }`)).toMatchObject({
      code: 'SPROUT_ERR_COLLECTOR_TLS',
      message: expect.stringContaining('tls.crt_file'),
    });
    expect(
      await failure(
        `${base}{ name: tcp, listen: 127.0.0.1, port: 0, tls: on, tls.crt_file: ${certs.dir}/missing.crt, tls.key_file: ${certs.serverKey} }`,
      ),
    ).toMatchObject({
      code: 'SPROUT_ERR_COLLECTOR_TLS',
      message: expect.stringMatching(/tls\.crt_file.*ENOENT/),
    });
    expect(
      await failure(
        `${base}{ name: http, listen: 127.0.0.1, port: 0, tls: on, tls.crt_file: ${certs.serverCrt}, tls.key_file: ${certs.clientKey} }`,
      ),
    ).toMatchObject({ code: 'SPROUT_ERR_COLLECTOR_TLS' });
    expect(
      await failure(
        `${base}{ name: syslog, mode: tcp, listen: 127.0.0.1, port: 0, tls: on, tls.crt_file: ${certs.serverCrt}, tls.key_file: ${certs.serverKeyEncrypted} }`,
      ),
    ).toMatchObject({ code: 'SPROUT_ERR_COLLECTOR_TLS' });
    expect(
      await failure(`${base}{ name: syslog, mode: udp, listen: 127.0.0.1, port: 0, tls: on }`),
    ).toMatchObject({
      code: 'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      message: expect.stringContaining('tls needs mode tcp'),
    });
    expect(
      await failure(`${base}{ name: tcp, listen: 127.0.0.1, port: 0, tls.vhost: example.org }`),
    ).toMatchObject({
      code: 'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      message: expect.stringContaining('tls.vhost'),
    });
    expect(await failure(`${base}{ name: mqtt, listen: 127.0.0.1, port: 0, tls.debug: 4 }`)).toMatchObject({
      code: 'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      message: expect.stringContaining('tls.debug'),
    });
  });
});
