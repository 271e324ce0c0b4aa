import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  askHostless,
  fuzzFindings,
  fuzzHttpServer,
  HOSTLESS_REFUSED,
  openSlowClients,
  rawExchange,
  seededRng,
} from '@sprout/http/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain } from '../../test/main-io.js';

const example = fileURLToPath(new URL('../../../../examples/eip-local/pools.yaml', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'sprout-eip-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const sprout = (...argv: string[]) => runMain(argv, { env: { SPROUT_DATA_DIR: dataDir } });

describe('sprout eip', () => {
  it('applies the example, allocates, shares, goes dual-stack, reports and releases', async () => {
    expect(await sprout('eip', 'apply', '-f', example)).toMatchObject({
      code: 0,
      out: 'eip/web-pool created\neip/default-pool created\neip/v6-pool created\nnamespace/shop configured\n',
    });
    expect(await sprout('eip', 'allocate', 'shop/web', '--ports', '80/tcp')).toMatchObject({
      code: 0,
      out: '127.0.10.1\n',
    });
    expect(await sprout('eip', 'allocate', 'shop/web')).toMatchObject({ code: 0, out: '127.0.10.1\n' }); // stable
    expect(await sprout('eip', 'allocate', 'other/api')).toMatchObject({ code: 0, out: '127.0.20.1\n' });
    const udp = await sprout('eip', 'allocate', 'shop/dns-udp', '--sharing-key', 'dns', '--ports', '53/udp');
    const tcp = await sprout('eip', 'allocate', 'shop/dns-tcp', '--sharing-key', 'dns', '--ports', '53/tcp');
    expect(udp.out).toBe('127.0.10.2\n');
    expect(tcp.out).toBe(udp.out);
    expect(
      await sprout('eip', 'allocate', 'shop/both', '--ip-family-policy', 'RequireDualStack'),
    ).toMatchObject({
      code: 0,
      out: '127.0.10.3\nfd00:5:7::1\n',
    });
    const json = JSON.parse((await sprout('eip', 'allocate', 'shop/web', '-o', 'json')).out) as {
      status: string;
    };
    expect(json.status).toBe('allocated');

    const ls = await sprout('eip', 'ls');
    expect(ls.out).toMatch(/^NAME\s+ADDRESS\s+PROTOCOL/);
    expect(ls.out).toMatch(/web-pool\s+127\.0\.10\.1-127\.0\.10\.50\s+local\s+0\s+\s+50\s+3\s+47/);
    const usage = JSON.parse((await sprout('eip', 'ls', '-o', 'json')).out) as {
      name: string;
      used: number;
      free: number;
    }[];
    expect(usage.find((u) => u.name === 'default-pool')).toMatchObject({ size: 14, used: 1, free: 13 });
    const status = JSON.parse((await sprout('eip', 'status', '-o', 'json')).out) as {
      services: { key: string }[];
    };
    expect(status.services.map((s) => s.key)).toEqual([
      'other/api',
      'shop/both',
      'shop/dns-tcp',
      'shop/dns-udp',
      'shop/web',
    ]);

    expect(await sprout('eip', 'release', 'shop/web')).toMatchObject({
      code: 0,
      out: 'released shop/web (127.0.10.1)\n',
    });
    expect(await sprout('eip', 'release', 'shop/web')).toMatchObject({
      code: 1,
      err: expect.stringMatching(/SPROUT_ERR_EIP_NOT_ALLOCATED/),
    });
  });

  it('fails with the pending reason and clear usage errors', async () => {
    expect(await sprout('eip', 'allocate', 'other/x', '--ip', '10.99.0.1')).toMatchObject({
      code: 1,
      err: 'error: SPROUT_ERR_EIP_PENDING: other/x is pending: IpNotInPool: 10.99.0.1 is not in any Eip\n',
    });
    expect(await sprout('eip', 'allocate', 'other/y', '--pool', 'nope')).toMatchObject({
      code: 1,
      err: expect.stringMatching(/PoolNotFound/),
    });
    expect(await sprout('eip', 'allocate', 'nonamespace')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/NAMESPACE\/NAME/),
    });
    expect(await sprout('eip', 'allocate', 'a/b', '--ports', '99999/tcp')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/--ports/),
    });
    expect(await sprout('eip', 'allocate', 'a/b', '--ip-family-policy', 'Both')).toMatchObject({ code: 2 });
    expect(await sprout('eip', 'apply')).toMatchObject({ code: 2, err: expect.stringMatching(/-f/) });
    const bad = join(dataDir, 'bad.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      bad,
      'apiVersion: network.kubesphere.io/v1alpha2\nkind: Eip\nmetadata: {name: x}\nspec: {address: 10.0.0.9-10.0.0.1}\n',
    );
    expect(await sprout('eip', 'apply', '-f', bad)).toMatchObject({
      code: 1,
      err: expect.stringMatching(/SPROUT_ERR_EIP_BAD_ADDRESS.*inverted/),
    });
    expect(await sprout('eip', 'delete', 'default-pool')).toMatchObject({
      code: 1,
      err: expect.stringMatching(/SPROUT_ERR_EIP_POOL_IN_USE/),
    });
    expect((await sprout('eip', '--help')).out).toMatch(/allocate\s+Give a service its address/);
    expect((await sprout('eip', 'allocate', '--help')).out).toMatch(/--sharing-key KEY/);
  });

  it('apply -f on an OpenELB workload file names each Service, its address and why, and lists what it skips', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-eip-workload-'));
    try {
      const openelb = fileURLToPath(new URL('../../../eip/test/fixtures/openelb/', import.meta.url));
      const file = join(dir, 'workload.yaml');
      writeFileSync(
        file,
        `apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata:
  name: default-eip
  annotations: {eip.openelb.kubesphere.io/is-default-eip: "true"}
spec: {address: 10.9.0.1-10.9.0.3, protocol: layer2, interface: lo}
---
${readFileSync(join(openelb, 'workload.yaml'), 'utf8')}`,
      );
      const env = { SPROUT_DATA_DIR: join(dir, 'data') };
      expect(await runMain(['eip', 'apply', '-f', file], { env })).toMatchObject({
        code: 0,
        out:
          'eip/default-eip created\n' +
          'service/default/mylbapp-svc-layer2 10.9.0.1: Eip/default-eip (layer2), the default Eip (none is bound to namespace default)\n' +
          "service/default/mylbapp-svc 10.9.0.2: Eip/default-eip (layer2), the default Eip (none is bound to namespace default); protocol.openelb.kubesphere.io/v1alpha1: bgp ignored, the Eip's protocol layer2 applies (as OpenELB 0.6)\n" +
          'skipped Deployment/mylbapp: Sprout does not act on this kind\n',
      });
      const ip = await runMain(['eip', 'apply', '-f', join(openelb, 'ipam-specified-ip.yaml')], { env });
      expect(ip).toMatchObject({
        code: 0,
        out:
          'eip/layer2-eip created\n' +
          'service/project-test/nginx pending: IpNotInPool: 192.168.1.10 is not in any Eip\n' +
          'service/project-test/nginx1 pending: IpNotInPool: 192.168.1.10 is not in any Eip\n',
      });
      expect((await runMain(['eip', 'apply', '--help'], { env })).out).toMatch(/listed as skipped/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serve runs the announcers, exposes /metrics (bounded, coded refusals) and stops on SIGTERM', async () => {
    const { createServer } = await import('node:net');
    const port = await new Promise<number>((r) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => r(p));
      });
    });
    // The IPv6 pool binds to lo; keep this test from adding addresses to the host.
    expect((await sprout('eip', 'release', 'shop/both')).code).toBe(0);
    const done = sprout('eip', 'serve', '--metrics-port', String(port));
    let text = '';
    for (let i = 0; i < 100 && !text.includes('sprout_eip_pool_used'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
    }
    expect(text).toMatch(/sprout_eip_pool_used\{pool="web-pool"\} \d+/);
    expect(text).toMatch(/sprout_eip_pool_size\{pool="default-pool"\} 14/);
    // The metrics listener keeps the limits of every Sprout listener: hostile requests get answers
    // (Node's parser refusals coded), slowloris connections are closed, /metrics still serves.
    const rng = seededRng();
    const fuzz = await fuzzHttpServer(
      port,
      { paths: ['/metrics', '/', '/metrics?x=%'], good: Buffer.alloc(0), methods: ['GET'] },
      { rng, ms: 1000, min: 40 },
    );
    expect(fuzzFindings(fuzz).serverErrors, `FUZZ_SEED=${rng.seed}`).toEqual([]);
    expect(
      fuzz.seen.some((x) => /x-sprout-error-code: sprout_err_http_malformed_request/.test(x.headers)),
      `FUZZ_SEED=${rng.seed}`,
    ).toBe(true);
    // An HTTP/1.1 request without Host (a fuzz find) is a coded 400, not the bare one of Node; an
    // HTTP/1.0 one needs no Host and is served.
    expect(await askHostless(port, '/metrics')).toEqual(HOSTLESS_REFUSED);
    expect((await rawExchange(port, 'GET /metrics HTTP/1.0\r\n\r\n')).text).toMatch(/sprout_eip_pool_used/);
    const slow = await openSlowClients(port, 20, { intervalMs: 500 });
    try {
      expect(await slow.allClosed(20_000)).toBe(true);
    } finally {
      slow.close();
    }
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/sprout_eip_pool_used/);
    process.emit('SIGTERM');
    expect(await done).toMatchObject({ code: 0 });
  }, 60_000);
});
