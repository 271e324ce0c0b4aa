import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, startCapture, waitFor } from './helpers.js';

// Real peer: socat.
describe('tcp input with socat', () => {
  let h: Awaited<ReturnType<typeof startCapture>>;
  beforeAll(async () => {
    h = await startCapture(`
service: { flush: 0.05 }
parsers:
  - name: access
    format: regex
    regex: '^(?<host>\\S+) (?<method>[A-Z]+) (?<path>\\S+) (?<time>\\S+)$'
    time_key: time
    time_format: '%Y-%m-%dT%H:%M:%S%z'
pipeline:
  inputs:
    - { name: tcp, listen: 127.0.0.1, port: 0, tag: t.json, buffer_size: 1, source_address_key: src }
    - { name: tcp, listen: 127.0.0.1, port: 0, tag: t.none, format: none, separator: '<EOM>', chunk_size: 1 }
    - { name: tcp, listen: 127.0.0.1, port: 0, tag: t.parsed, parser: access, source_address_key: src }
    - { name: tcp, listen: 127.0.0.1, port: 0, tag: t.logfmt, format: json, parser: logfmt, separator: ';' }
  outputs:
    - { name: stdout, match: 't.*' }
`);
  });
  afterAll(() => h.c.close());

  const send = (port: number, text: string) =>
    run('bash', ['-c', `printf '%s' "$0" | socat -t 2 - TCP:127.0.0.1:${port}`, text]);
  const bodies = (tag: string) =>
    (h.got.get('stdout.0') ?? []).filter((r) => r.tag === tag).map((r) => r.body);

  it('json: concatenated and newline-separated objects; garbage and oversize rejected; source address added', async () => {
    await send(
      h.port(0),
      `{"a":1}{"b":{"c":"}"}}\n{"d":[1,2]}\nnot json {"e":"${'x'.repeat(2000)}"}{"f":true}`,
    );
    await waitFor(() => bodies('t.json').length === 4);
    expect(
      bodies('t.json').map(({ src, ...rest }) => (expect(src).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/), rest)),
    ).toEqual([{ a: 1 }, { b: { c: '}' } }, { d: [1, 2] }, { f: true }]);
    const m = await h.c.metrics.metrics();
    expect(m).toMatch(/reason="garbage"\} 1/);
    expect(m).toMatch(/reason="too_large"\} 1/);
  });

  it('none: a multi-character separator; the last unterminated message is kept at close', async () => {
    await send(h.port(1), 'first line<EOM>second<EO');
    await send(h.port(1), 'third<EOM>');
    await waitFor(() => bodies('t.none').length === 3);
    expect(bodies('t.none')).toEqual([{ log: 'first line' }, { log: 'second<EO' }, { log: 'third' }]);
  });

  it('json: an object the sender did not end with a newline is read when the connection closes', async () => {
    await send(h.port(0), '{"no":"newline"}');
    await waitFor(() => bodies('t.json').some((b) => b.no === 'newline'));
  });

  it('parser: each line read by a named parser, with its time; an unreadable line stays {log}', async () => {
    await send(h.port(2), 'web1 GET /index.html 2024-05-01T10:00:00+0000\nnot an access line\n');
    await waitFor(() => bodies('t.parsed').length === 2);
    const got = (h.got.get('stdout.0') ?? []).filter((r) => r.tag === 't.parsed');
    expect(got.map(({ body: { src, ...rest } }) => (expect(src).toMatch(/^tcp:\/\//), rest))).toEqual([
      { host: 'web1', method: 'GET', path: '/index.html' },
      { log: 'not an access line' },
    ]);
    expect(got[0]!.time).toBe(BigInt(Date.UTC(2024, 4, 1, 10)) * 1_000_000n);
  });

  it('parser with format json reads lines (format none), as fluent-bit switches it', async () => {
    await send(h.port(3), 'level=info msg=up;level=warn msg="disk low";');
    await waitFor(() => bodies('t.logfmt').length === 2);
    expect(bodies('t.logfmt')).toEqual([
      { level: 'info', msg: 'up' },
      { level: 'warn', msg: 'disk low' },
    ]);
  });
});
