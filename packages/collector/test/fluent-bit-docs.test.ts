import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createCollector, parseConfig } from '../src/index.js';
import { curlPostJson, quiet, run, startCapture, waitFor } from './helpers.js';

// fluent-bit's own example configs for the eight inputs (test/fixtures/fluent-bit-docs, byte for
// byte from its documentation) run on Sprout with the docs' own requests, sent by real clients:
// curl, mosquitto_pub, util-linux logger, socat. Listeners move to 127.0.0.1 and port 0, unix
// sockets into a temporary folder; every other key is as the docs write it.
const fixtures = fileURLToPath(new URL('./fixtures/fluent-bit-docs/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'collector-fbdocs-'));

/** The fixture with its listeners made local (nginx_metrics is a client and keeps its target). */
function localized(name: string): string {
  const doc = parse(readFileSync(join(fixtures, name), 'utf8')) as {
    pipeline: { inputs: Array<Record<string, unknown>> };
  };
  for (const input of doc.pipeline.inputs) {
    if (input.name === 'nginx_metrics') continue;
    if (typeof input.path === 'string') input.path = join(dir, basename(input.path));
    else Object.assign(input, { listen: '127.0.0.1', port: 0 });
  }
  return stringify(doc);
}

describe("fluent-bit's documented input examples", () => {
  let h: Awaited<ReturnType<typeof startCapture>> | undefined;
  const start = async (name: string) => (h = await startCapture(localized(name)));
  const got = (output = 'stdout.0') => h!.got.get(output) ?? [];
  afterEach(async () => {
    await h?.c.close();
    h = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const post = (path: string, body: string, port = h!.port()) =>
    curlPostJson(`http://127.0.0.1:${port}${path}`, body);

  it('http-1: the tag is the URL path (app.log)', async () => {
    await start('http-1.yaml');
    expect(await post('/app.log', '{"key1":"value1","key2":"value2"}')).toBe(201);
    const r = await waitFor(() => got()[0]);
    expect(r).toMatchObject({ tag: 'app.log', body: { key1: 'value1', key2: 'value2' } });
  });

  it('http-3: tag_key key1 makes value1 the tag', async () => {
    await start('http-3.yaml');
    expect(await post('/app.log', '{"key1":"value1","key2":"value2"}')).toBe(201);
    expect(await waitFor(() => got()[0])).toMatchObject({ tag: 'value1' });
  });

  it('http-4: add_remote_addr records the first X-Forwarded-For value (its stdout has no match: Sprout asks for one)', async () => {
    expect(() => parseConfig(localized('http-4.yaml'))).toThrow(
      expect.objectContaining({
        code: 'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
        message: expect.stringMatching(/match/),
      }),
    );
    // The same config with the output matching everything, and the docs' curl request.
    h = await startCapture(
      localized('http-4.yaml').replace(/- name: stdout\n?$/m, "- { name: stdout, match: '*' }"),
    );
    // The docs' request: -d '{"key1":"value1"}' with X-Forwarded-For: host1, host2.
    const xff = ['-H', 'X-Forwarded-For: host1, host2'];
    expect(await curlPostJson(`http://127.0.0.1:${h.port()}`, '{"key1":"value1"}', xff)).toBe(201);
    expect((await waitFor(() => got()[0])).body).toEqual({ key1: 'value1', REMOTE_ADDR: 'host1' });
  });

  it('http-5: success_header adds both headers to the answer', async () => {
    await start('http-5.yaml');
    const { stdout } = await run('curl', [
      '-s',
      '-D',
      '-',
      '-o',
      '/dev/null',
      '-H',
      'content-type: application/json',
      '-d',
      '{"a":1}',
      `http://127.0.0.1:${h!.port()}/`,
    ]);
    expect(stdout).toMatch(/^x-custom: custom-answer\r$/im);
    expect(stdout).toMatch(/^x-another: another-answer\r$/im);
  });

  it('http-7: oauth2.validate is refused, saying so', () => {
    expect(() => parseConfig(localized('http-7.yaml'))).toThrow(
      expect.objectContaining({
        code: 'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
        message: expect.stringMatching(/oauth2\.validate cannot be on/),
      }),
    );
  });

  it("opentelemetry-1: the docs' curl request is a v1_logs record", async () => {
    await start('opentelemetry-1.yaml');
    const body =
      '{"resourceLogs":[{"resource":{},"scopeLogs":[{"scope":{},"logRecords":[{"timeUnixNano":"1660296023390371588","body":{"stringValue":"{\\"message\\":\\"dummy\\"}"},"traceId":"","spanId":""}]}]}]}';
    expect(await post('/v1/logs', body)).toBe(201);
    const r = await waitFor(() => got()[0]);
    expect(r).toMatchObject({
      tag: 'v1_logs',
      time: 1660296023390371588n,
      body: { log: '{"message":"dummy"}' },
    });
  });

  it('mqtt-1: a message from mosquitto_pub, tagged data, the payload under payload', async () => {
    await start('mqtt-1.yaml');
    await run('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(h!.port()),
      '-t',
      'sensors/a',
      '-m',
      '{"key":"value"}',
    ]);
    expect(await waitFor(() => got()[0])).toMatchObject({
      tag: 'data',
      body: { topic: 'sensors/a', payload: '{"key":"value"}' },
    });
  });

  it('collectd-1: a typesdb list; a file that does not exist is a coded error naming it', () => {
    const build = () => createCollector(parseConfig(localized('collectd-1.yaml')), { logger: quiet });
    if (existsSync('/etc/collectd/custom.db')) return void expect(build).not.toThrow();
    expect(build).toThrow(
      expect.objectContaining({
        code: 'SPROUT_ERR_COLLECTOR_TYPESDB',
        message: expect.stringContaining('/etc/collectd/custom.db'),
      }),
    );
  });

  it('nginx-1, nginx-2: stub_status and NGINX Plus configs are accepted as written', () => {
    for (const name of ['nginx-1.yaml', 'nginx-2.yaml']) {
      const config = parseConfig(localized(name));
      expect(config.inputs[0]!.options).toMatchObject({ host: '127.0.0.1', port: 80, scrape_interval: 5 });
      createCollector(config, { logger: quiet });
    }
  });

  it('statsd-1, statsd-2: log records, and metric records with metrics: on', async () => {
    for (const [name, kind] of [
      ['statsd-1.yaml', undefined],
      ['statsd-2.yaml', 'metric'],
    ] as const) {
      await start(name);
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.send('click:10|c', h!.port(), '127.0.0.1', () => r()));
      s.close();
      const r = await waitFor(() => got()[0]);
      expect(r.kind).toBe(kind);
      expect(JSON.stringify(r.body)).toContain('click');
      await h!.c.close();
      h = undefined;
    }
  });

  it('syslog-1: the default unix_udp mode on a path, with its buffer sizes', async () => {
    await start('syslog-1.yaml');
    await run('logger', ['-u', join(dir, 'in_syslog'), '-d', '-t', 'docs', 'hello from logger']);
    expect((await waitFor(() => got()[0])).body).toMatchObject({
      ident: 'docs',
      message: 'hello from logger',
    });
  });

  it('syslog-2: mode tcp with parser syslog-rfc3164', async () => {
    await start('syslog-2.yaml');
    await run('logger', [
      '--rfc3164',
      '-T',
      '-n',
      '127.0.0.1',
      '-P',
      String(h!.port()),
      '-t',
      'docs',
      'over tcp',
    ]);
    expect((await waitFor(() => got()[0])).body).toMatchObject({ ident: 'docs', message: 'over tcp' });
  });

  it('syslog-3: unix_udp with parser syslog-rfc3164 and unix_perm 0644', async () => {
    await start('syslog-3.yaml');
    const path = join(dir, 'fluent-bit.sock');
    expect(statSync(path).mode & 0o777).toBe(0o644);
    await run('logger', ['--rfc3164', '-u', path, '-d', '-t', 'docs', 'over a unix socket']);
    expect((await waitFor(() => got()[0])).body).toMatchObject({
      ident: 'docs',
      message: 'over a unix socket',
    });
  });

  it('tcp-1: JSON over TCP with chunk_size 32 and buffer_size 64', async () => {
    await start('tcp-1.yaml');
    // The docs' command: echo '...' | nc 127.0.0.1 5170 (socat here).
    const json = '{"key 1": 123456789, "key 2": "abcdefg"}';
    await run('bash', ['-c', `echo "$0" | socat -t 1 - TCP:127.0.0.1:${h!.port()}`, json]);
    expect((await waitFor(() => got()[0])).body).toEqual({ 'key 1': 123456789, 'key 2': 'abcdefg' });
  });
});
