import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, startCapture, waitFor } from './helpers.js';

// Real peer: util-linux logger.
describe('syslog input with util-linux logger', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collector-syslog-'));
  let h: Awaited<ReturnType<typeof startCapture>>;
  beforeAll(async () => {
    h = await startCapture(`
service: { flush: 0.05 }
pipeline:
  inputs:
    - { name: syslog, mode: udp, listen: 127.0.0.1, port: 0, tag: s.udp, source_address_key: src }
    - { name: syslog, mode: tcp, listen: 127.0.0.1, port: 0, tag: s.tcp }
    - { name: syslog, mode: unix_udp, path: ${dir}/dgram.sock, tag: s.unix_udp }
    - { name: syslog, mode: unix_tcp, path: ${dir}/stream.sock, tag: s.unix_tcp, unix_perm: '0600' }
    - { name: syslog, mode: udp, listen: 127.0.0.1, port: 0, tag: s.3164, parser: syslog-rfc3164 }
    - { name: syslog, mode: udp, listen: 127.0.0.1, port: 0, tag: s.auto, raw_message_key: raw }
    - { name: syslog, mode: tcp, listen: 127.0.0.1, port: 0, tag: s.nl, frame: newline }
    - { name: syslog, mode: unix_udp, path: ${dir}/perm.sock, tag: s.perm, unix_perm: 0640 }
    - { name: syslog, mode: tcp, listen: 127.0.0.1, port: 0, tag: s.fmt, format: newline }
  outputs:
    - { name: stdout, match: 's.*' }
`);
  });
  afterAll(async () => {
    await h.c.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const bodies = (tag: string) => (h.got.get('stdout.0') ?? []).filter((r) => r.tag === tag);

  it('udp, RFC 5424: fields, structured data, time with microseconds, source address', async () => {
    const before = BigInt(Date.now() - 1000) * 1_000_000n;
    await run('logger', [
      '-d',
      '-n',
      '127.0.0.1',
      '-P',
      String(h.port(0)),
      '--rfc5424',
      '-t',
      'myapp',
      '-i',
      '-p',
      'local0.warning',
      'hello over udp',
    ]);
    const [r] = await waitFor(() => bodies('s.udp').length && bodies('s.udp'));
    expect(r!.body).toMatchObject({
      pri: 16 * 8 + 4,
      ident: 'myapp',
      message: 'hello over udp',
      extradata: expect.stringContaining('timeQuality'),
    });
    expect(r!.body.pid).toMatch(/^\d+$/);
    expect(r!.body.src).toMatch(/^udp:\/\/127\.0\.0\.1:\d+$/);
    expect(r!.time).toBeGreaterThan(before);
    expect(r!.time % 1000n).toBe(0n); // microsecond precision from the peer
  });

  it('tcp: newline framing and octet counting (RFC 6587)', async () => {
    await run('logger', ['-T', '-n', '127.0.0.1', '-P', String(h.port(1)), '-t', 'app', 'framed by newline']);
    await run('logger', [
      '-T',
      '-n',
      '127.0.0.1',
      '-P',
      String(h.port(1)),
      '--octet-count',
      '-t',
      'app',
      'framed by count\nwith a newline inside',
    ]);
    await waitFor(() => bodies('s.tcp').length === 2);
    expect(bodies('s.tcp').map((r) => r.body.message)).toEqual([
      'framed by newline',
      'framed by count\nwith a newline inside',
    ]);
  });

  it('unix_udp and unix_tcp with the local RFC 3164 format', async () => {
    await run('logger', ['-u', `${dir}/dgram.sock`, '-d', '-t', 'local', 'over a datagram socket']);
    await run('logger', ['-u', `${dir}/stream.sock`, '-T', '-t', 'local', 'over a stream socket']);
    await waitFor(() => bodies('s.unix_udp').length === 1 && bodies('s.unix_tcp').length === 1);
    expect(bodies('s.unix_udp')[0]!.body).toEqual({
      pri: 13,
      ident: 'local',
      message: 'over a datagram socket',
    });
    expect(bodies('s.unix_tcp')[0]!.body).toEqual({
      pri: 13,
      ident: 'local',
      message: 'over a stream socket',
    });
  });

  it('RFC 3164 over the network with a host; a message the named parser cannot read is kept, flagged', async () => {
    await run('logger', [
      '-d',
      '-n',
      '127.0.0.1',
      '-P',
      String(h.port(4)),
      '--rfc3164',
      '-t',
      'old',
      'bsd style',
    ]);
    await run('bash', ['-c', `printf 'not syslog at all' | socat -u - UDP:127.0.0.1:${h.port(4)}`]);
    await waitFor(() => bodies('s.3164').length === 2);
    expect(bodies('s.3164')[0]!.body).toMatchObject({
      pri: 13,
      ident: 'old',
      message: 'bsd style',
      host: expect.any(String),
    });
    expect(bodies('s.3164')[1]!.body).toEqual({ message: 'not syslog at all', parse_error: true });
  });

  it('without a parser every form is read (logger --rfc3164, --rfc5424, a local-style line); raw_message_key keeps the line', async () => {
    const to = ['-d', '-n', '127.0.0.1', '-P', String(h.port(5)), '-t', 'auto'];
    await run('logger', [...to, '--rfc3164', 'three one six four']);
    await run('logger', [...to, '--rfc5424', 'five four two four']);
    await run('bash', [
      '-c',
      `printf '<14>Jan  5 01:02:03 app[9]: local style' | socat -u - UDP:127.0.0.1:${h.port(5)}`,
    ]);
    await run('bash', ['-c', `printf 'free text' | socat -u - UDP:127.0.0.1:${h.port(5)}`]);
    await waitFor(() => bodies('s.auto').length === 4);
    const got = bodies('s.auto').map((r) => r.body);
    expect(got[0]).toMatchObject({
      pri: 13,
      host: expect.any(String),
      ident: 'auto',
      message: 'three one six four',
    });
    expect(got[0]!.raw).toMatch(/^<13>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ auto: three one six four$/);
    expect(got[1]).toMatchObject({ pri: 13, ident: 'auto', message: 'five four two four' });
    expect(got[1]!.raw).toMatch(/^<13>1 \d{4}-/);
    expect(got[2]).toEqual({
      pri: 14,
      ident: 'app',
      pid: '9',
      message: 'local style',
      raw: '<14>Jan  5 01:02:03 app[9]: local style',
    });
    expect(got[3]).toEqual({ message: 'free text', parse_error: true, raw: 'free text' });
  });

  it('frame: newline reads a line that starts with digits as a message, not a length', async () => {
    await run('bash', [
      '-c',
      `printf '12 monkeys\\n<13>Jan  5 01:02:03 h app: after\\n' | socat -u - TCP:127.0.0.1:${h.port(6)}`,
    ]);
    await waitFor(() => bodies('s.nl').length === 2);
    expect(bodies('s.nl').map((r) => r.body)).toEqual([
      { message: '12 monkeys', parse_error: true },
      { pri: 13, host: 'h', ident: 'app', message: 'after' },
    ]);
  });

  it("fluent-bit's name format: newline fixes the framing as frame does", async () => {
    await run('bash', [
      '-c',
      `printf '12 monkeys\\n<13>Jan  5 01:02:03 h app: after\\n' | socat -u - TCP:127.0.0.1:${h.port(8)}`,
    ]);
    await waitFor(() => bodies('s.fmt').length === 2);
    expect(bodies('s.fmt').map((r) => r.body)).toEqual([
      { message: '12 monkeys', parse_error: true },
      { pri: 13, host: 'h', ident: 'app', message: 'after' },
    ]);
  });

  it('unix_perm given as a YAML number (0640) is octal', async () => {
    expect(statSync(`${dir}/perm.sock`).mode & 0o777).toBe(0o640);
    await run('logger', ['-u', `${dir}/perm.sock`, '-d', '-t', 'p', 'perm ok']);
    await waitFor(() => bodies('s.perm').length === 1);
    expect(bodies('s.perm')[0]!.body).toEqual({ pri: 13, ident: 'p', message: 'perm ok' });
  });
});
