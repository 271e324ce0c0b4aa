import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollector, parseConfig } from '../src/index.js';
import { quiet, startCapture, waitFor } from './helpers.js';

// Real peer: the collectd daemon (Debian collectd-core) with its network plugin.
describe('collectd input with the collectd daemon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collector-collectd-'));
  let h: Awaited<ReturnType<typeof startCapture>>;
  let daemon: ChildProcess;
  let stderr = '';
  beforeAll(async () => {
    // A later types.db in the list wins for a type both define (fluent-bit's documented order).
    writeFileSync(join(dir, 'override.db'), 'load one:GAUGE:0:U, five:GAUGE:0:U, fifteen:GAUGE:0:U\n');
    h = await startCapture(`
service: { flush: 0.05 }
pipeline:
  inputs:
    - { name: collectd, listen: 127.0.0.1, port: 0, tag: cd, typesdb: /usr/share/collectd/types.db }
    - { name: collectd, listen: 127.0.0.1, port: 0, tag: cd2, typesdb: '/usr/share/collectd/types.db, ${dir}/override.db' }
  outputs:
    - { name: stdout, match: 'cd*' }
`);
    writeFileSync(
      join(dir, 'collectd.conf'),
      `Hostname "collector-test-host"\nFQDNLookup false\nInterval 1\nBaseDir "${dir}"\nPIDFile "${dir}/collectd.pid"\nTypesDB "/usr/share/collectd/types.db"\nLoadPlugin load\nLoadPlugin memory\nLoadPlugin network\n<Plugin network>\n  Server "127.0.0.1" "${h.port()}"\n  Server "127.0.0.1" "${h.port(1)}"\n</Plugin>\n`,
    );
    daemon = spawn('collectd', ['-f', '-C', join(dir, 'collectd.conf')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    daemon.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  });
  afterAll(async () => {
    daemon?.kill('SIGTERM');
    await h.c.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const of = (tag = 'cd') => (h.got.get('stdout.0') ?? []).filter((r) => r.tag === tag);

  it('receives load and memory values named by types.db', async () => {
    await waitFor(
      () => of().some((r) => r.body.plugin === 'load') && of().some((r) => r.body.plugin === 'memory'),
      20_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; collectd said: ${stderr}`);
    });
    const load = of().find((r) => r.body.plugin === 'load')!;
    expect(load.body).toMatchObject({ host: 'collector-test-host', type: 'load', interval: 1 });
    for (const k of ['shortterm', 'midterm', 'longterm']) expect(typeof load.body[k]).toBe('number');
    expect(Number(load.time / 1_000_000n)).toBeGreaterThan(Date.now() - 60_000);
    const mem = of().find((r) => r.body.plugin === 'memory')!;
    expect(mem.body.type).toBe('memory');
    expect(typeof mem.body.value).toBe('number');
    expect(['used', 'free', 'buffered', 'cached', 'slab_recl', 'slab_unrecl']).toContain(
      mem.body.type_instance,
    );
  });

  it('typesdb takes a comma-separated list; a later file wins for a type both define', async () => {
    const load = await waitFor(() => of('cd2').find((r) => r.body.plugin === 'load'), 20_000);
    for (const k of ['one', 'five', 'fifteen']) expect(typeof load.body[k]).toBe('number');
    expect(load.body.shortterm).toBeUndefined();
    // Types only the first file defines still decode.
    await waitFor(() =>
      of('cd2').some((r) => r.body.plugin === 'memory' && typeof r.body.value === 'number'),
    );
  });

  it('a missing types.db is a coded error', () => {
    expect(() =>
      createCollector(
        parseConfig(`pipeline:\n  inputs:\n    - { name: collectd, typesdb: ${dir}/nope.db }\n`),
        { logger: quiet },
      ),
    ).toThrow(expect.objectContaining({ code: 'SPROUT_ERR_COLLECTOR_TYPESDB' }));
  });
});
