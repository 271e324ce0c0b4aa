import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEipManager } from '@sprout/eip';
import type { DevServer } from '../src/index.js';
import { schemaErrors, startTestDev, withToken } from './helpers.js';

const POOLS = `
apiVersion: v1
kind: Namespace
metadata: { name: shop, labels: { team: web } }
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: { name: web-pool }
spec: { address: 127.0.31.1-127.0.31.3, protocol: local, namespaceSelector: { team: web } }
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata:
  name: default-pool
  annotations: { eip.openelb.kubesphere.io/is-default-eip: 'true' }
spec: { address: 127.0.32.0/30, protocol: local }
`;

const open: DevServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

async function dev(paths: string[], dataDir: string, apply?: string) {
  const d = await startTestDev(paths, {
    dataDir,
    host: '0.0.0.0',
    collector: false,
    eip: apply === undefined ? {} : { apply },
  });
  open.push(d);
  return d;
}

const tmp = () => mkdtempSync(join(tmpdir(), 'sprout-platform-eip-'));

/** The type a YAML body is sent with (text/plain is refused, as any page could send it). */
const YAML = { 'content-type': 'application/yaml' };

describe('sprout dev with EIP pools', () => {
  it('gives each function an address from its namespace pool and serves it there', async () => {
    const dataDir = tmp();
    const d = await dev(['shop-web', 'echo'], dataDir, POOLS);
    // shop is labelled team=web: its function comes from web-pool; echo (default) from the default Eip.
    const shop = await d.call('/v1/functions/shop-web');
    expect(shop.status).toBe(200);
    expect(schemaErrors('Function', shop.body)).toEqual([]);
    expect(shop.body.address).toEqual({ status: 'allocated', addresses: ['127.0.31.1'], pool: 'web-pool' });
    const echo = await d.call('/v1/functions/echo');
    expect(echo.body.address).toMatchObject({ addresses: ['127.0.32.1'], pool: 'default-pool' });

    // Every path of the address reaches the function unchanged; the shared port keeps its routes.
    const r = await fetch(`http://127.0.31.1:${d.port}/orders/7?id=7`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('shop-web saw /orders/7');
    expect(await (await fetch(`http://127.0.32.1:${d.port}/x`)).json()).toMatchObject({ path: '/x' });
    expect(await (await fetch(`http://127.0.0.1:${d.port}/echo/y`)).json()).toMatchObject({ path: '/y' });
    // An address nobody holds is not a route.
    expect((await fetch(`http://127.0.31.2:${d.port}/x`)).status).toBe(404);

    const pools = await d.call('/v1/eip/pools');
    expect(schemaErrors('EipPoolList', pools.body)).toEqual([]);
    expect(pools.body.pools).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'web-pool', size: 3, used: 1, free: 2 }),
        expect.objectContaining({ name: 'default-pool', size: 2, used: 1, free: 1, isDefault: true }),
      ]),
    );
    const metrics = await (await fetch(`${d.api.url}/metrics`)).text();
    expect(metrics).toMatch(/sprout_eip_pool_used\{pool="web-pool"[^}]*\} 1/);
    expect(metrics).toMatch(/sprout_gateway_requests_total/);

    // Removing a function releases its address.
    expect(
      (await fetch(`${d.api.url}/v1/functions/echo`, withToken(d.api.token, { method: 'DELETE' }))).status,
    ).toBe(204);
    const events = d.platform.events.since(0);
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'address.allocated',
          function: 'shop-web',
          namespace: 'shop',
          addresses: ['127.0.31.1'],
          pool: 'web-pool',
        }),
        expect.objectContaining({ type: 'address.released', function: 'echo', addresses: ['127.0.32.1'] }),
      ]),
    );
    for (const e of events) expect(schemaErrors('Event', e), e.type).toEqual([]);
    const gone = await d.call('/v1/eip/allocations/default/echo');
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ error: { code: 'SPROUT_ERR_EIP_NOT_ALLOCATED' } });
    // Its address is no longer routed to it: the one function left now serves / on every host.
    expect(await (await fetch(`http://127.0.32.1:${d.port}/x`)).text()).toBe('shop-web saw /x');

    // After a restart on the same data dir (nothing applied) the address has not moved.
    await d.close();
    open.splice(open.indexOf(d), 1);
    const again = await dev(['shop-web'], dataDir);
    expect((await again.call('/v1/functions/shop-web')).body.address).toMatchObject({
      addresses: ['127.0.31.1'],
    });
    expect(await (await fetch(`http://127.0.31.1:${again.port}/`)).text()).toBe('shop-web saw /');
  });

  it("uses only the --eip file's pools, and says so when it uses pools applied in an earlier run", async () => {
    const dataDir = tmp();
    const first = await dev(['shop-web'], dataDir, POOLS);
    expect((await first.call('/v1/functions/shop-web')).body.address).toMatchObject({
      addresses: ['127.0.31.1'],
    });
    await first.close();
    open.splice(open.indexOf(first), 1);

    // Without --eip the pools applied earlier are used, and said to be.
    const plain = await dev(['shop-web'], dataDir);
    expect((await plain.call('/v1/functions/shop-web')).body.address).toMatchObject({
      addresses: ['127.0.31.1'],
    });
    expect(plain.logs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          msg: expect.stringMatching(
            /^using pools from .*eip\.db \(applied earlier: default-pool, web-pool; --eip FILE uses only that file's pools, --no-eip none, --fresh starts clean\)$/,
          ),
          store: join(dataDir, 'eip.db'),
        }),
      ]),
    );
    await plain.close();
    open.splice(open.indexOf(plain), 1);

    // With --eip FILE, only that file's pools: the function moves to them.
    const other = `
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata:
  name: lab-pool
  annotations: { eip.openelb.kubesphere.io/is-default-eip: 'true' }
spec: { address: 127.0.35.0/30, protocol: local }
`;
    const only = await dev(['shop-web'], dataDir, other);
    expect((await only.call('/v1/eip/pools')).body.pools).toEqual([
      expect.objectContaining({ name: 'lab-pool', used: 1 }),
    ]);
    expect((await only.call('/v1/functions/shop-web')).body.address).toEqual({
      status: 'allocated',
      addresses: ['127.0.35.1'],
      pool: 'lab-pool',
    });
    expect(await (await fetch(`http://127.0.35.1:${only.port}/q`)).text()).toBe('shop-web saw /q');
    expect(only.logs.map((l) => l.msg)).toContain(
      "pools applied earlier and not in the --eip documents were removed: default-pool, web-pool (only the file's pools are used)",
    );
    await only.close();
    open.splice(open.indexOf(only), 1);

    // A pool the file gives other addresses is recreated, though a function held one of the old.
    const moved = await dev(['shop-web'], dataDir, other.replace('127.0.35.0/30', '127.0.36.0/30'));
    expect((await moved.call('/v1/functions/shop-web')).body.address).toEqual({
      status: 'allocated',
      addresses: ['127.0.36.1'],
      pool: 'lab-pool',
    });
  });

  it('keeps a function pending with the reason until a pool for it is applied through the API', async () => {
    const onlyOther = `
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: { name: other-pool }
spec: { address: 127.0.33.0/29, protocol: local, namespaces: [other] }
`;
    const d = await dev(['shop-web'], tmp(), onlyOther);
    const pending = await d.call('/v1/functions/shop-web');
    expect(pending.body.address).toMatchObject({
      status: 'pending',
      addresses: [],
      reason: 'NoPoolForNamespace',
    });
    expect(String((pending.body.address as { message: string }).message)).toMatch(/shop/);
    expect(d.platform.events.since(0)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'address.pending',
          function: 'shop-web',
          reason: 'NoPoolForNamespace',
        }),
      ]),
    );
    expect(schemaErrors('Function', pending.body)).toEqual([]);

    const applied = await d.call('/v1/eip/apply', {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: POOLS,
    });
    expect(applied.status).toBe(200);
    expect(schemaErrors('EipApplyResult', applied.body)).toEqual([]);
    const now = await d.call('/v1/functions/shop-web');
    expect(now.body.address).toMatchObject({ status: 'allocated', addresses: ['127.0.31.1'] });
    expect(await (await fetch(`http://127.0.31.1:${d.port}/a`)).text()).toBe('shop-web saw /a');
  });

  it('picks up pools applied by another process (sprout eip apply on the same data dir) while running', async () => {
    const dataDir = tmp();
    const d = await dev(['shop-web'], dataDir);
    expect((await d.call('/v1/functions/shop-web')).body.address).toBeUndefined();
    // Another writer on the same store, as `sprout eip apply -f pools.yaml --data-dir` would be.
    const other = createEipManager({ dataDir });
    try {
      other.apply(POOLS);
    } finally {
      other.close();
    }
    const deadline = Date.now() + 10_000;
    let address: unknown;
    while (Date.now() < deadline) {
      address = (await d.call('/v1/functions/shop-web')).body.address;
      if ((address as { status?: string } | undefined)?.status === 'allocated') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(address).toEqual({ status: 'allocated', addresses: ['127.0.31.1'], pool: 'web-pool' });
    expect(await (await fetch(`http://127.0.31.1:${d.port}/z`)).text()).toBe('shop-web saw /z');
  });

  it('serves allocations, pool deletion and events over the API, with coded errors', async () => {
    const d = await dev(['shop-web'], tmp(), POOLS);
    const post = (body: unknown) =>
      d.call('/v1/eip/allocations', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const db = await post({ namespace: 'shop', name: 'db' });
    expect(db.status).toBe(201);
    expect(schemaErrors('EipService', db.body)).toEqual([]);
    expect(db.body).toMatchObject({
      status: 'allocated',
      addresses: [{ ip: '127.0.31.2', pool: 'web-pool' }],
    });
    const wanted = await post({ namespace: 'shop', name: 'cache', ips: ['127.0.31.3'] });
    expect(wanted.body).toMatchObject({ addresses: [{ ip: '127.0.31.3' }] });
    // web-pool is now full: the next shop service waits, with OpenELB's reason.
    const full = await post({ namespace: 'shop', name: 'queue', pool: 'web-pool' });
    expect(full.status).toBe(202);
    expect(full.body).toMatchObject({ status: 'pending', condition: { reason: expect.any(String) } });

    const list = await d.call('/v1/eip/allocations?namespace=shop');
    expect(schemaErrors('EipServiceList', list.body)).toEqual([]);
    expect((list.body.allocations as { name: string }[]).map((s) => s.name).sort()).toEqual([
      'cache',
      'db',
      'queue',
      'shop-web',
    ]);

    const bad = await post({ namespace: 'Shop!', name: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'SPROUT_ERR_EIP_BAD_REQUEST' } });
    expect((await post({ namespace: 'shop', name: 'x', ips: ['10.9.9.9'] })).body).toMatchObject({
      status: 'pending',
    });
    const inUse = await d.call('/v1/eip/pools/web-pool', { method: 'DELETE' });
    expect(inUse.status).toBe(409);
    expect(inUse.body).toMatchObject({ error: { code: 'SPROUT_ERR_EIP_POOL_IN_USE' } });
    const badYaml = await d.call('/v1/eip/apply', {
      method: 'POST',
      headers: YAML,
      body: 'kind: Eip\n  spec: [',
    });
    expect(badYaml.status).toBe(400);
    expect(String((badYaml.body.error as { code: string }).code)).toMatch(/^SPROUT_ERR_EIP_/);
    const overlap = await d.call('/v1/eip/apply', {
      method: 'POST',
      headers: YAML,
      body: 'apiVersion: network.kubesphere.io/v1alpha2\nkind: Eip\nmetadata: { name: clash }\nspec: { address: 127.0.31.2/32, protocol: local }\n',
    });
    expect(overlap.status).toBe(409);
    expect(overlap.body).toMatchObject({ error: { code: 'SPROUT_ERR_EIP_POOL_OVERLAP' } });
    expect((await d.call('/v1/eip/pools/nope')).status).toBe(404);
    expect((await d.call('/v1/eip/nothing')).body).toMatchObject({
      error: { code: 'SPROUT_ERR_PLATFORM_NO_ROUTE' },
    });

    expect((await d.call('/v1/eip/allocations/shop/db', { method: 'DELETE' })).status).toBe(204);
    const events = await d.call('/v1/eip/events');
    expect(schemaErrors('EipEventList', events.body)).toEqual([]);
    expect(events.body.events).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'exhausted', pool: 'web-pool' })]),
    );
    // The platform's event stream says so too.
    expect(d.platform.events.since(0)).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'pool.exhausted', pool: 'web-pool' })]),
    );
    // Draining moves the holders elsewhere (the default pool) or to pending.
    const drained = await d.call('/v1/eip/pools/web-pool?drain=true', { method: 'DELETE' });
    expect(drained.status).toBe(200);
    expect((drained.body.drained as string[]).sort()).toContain('shop/shop-web');
    const moved = await d.call('/v1/functions/shop-web');
    expect(moved.body.address).toMatchObject({ pool: 'default-pool' });
  });

  it('leaves a function out with sprout.dev/expose "false" and takes the Eip and address named by annotation', async () => {
    const d = await dev(['pinned', 'hidden', 'greeter'], tmp(), POOLS);
    // pinned is in shop (bound to web-pool) but its annotations ask for default-pool and one address.
    expect((await d.call('/v1/functions/pinned')).body.address).toEqual({
      status: 'allocated',
      addresses: ['127.0.32.2'],
      pool: 'default-pool',
    });
    expect(await (await fetch(`http://127.0.32.2:${d.port}/p`)).text()).toBe('pinned /p');
    expect((await d.call('/v1/functions/hidden')).body.address).toBeUndefined();
    expect((await d.call('/v1/eip/allocations/shop/hidden')).status).toBe(404);
    // A plain function (namespace default) takes the default Eip's other address.
    expect((await d.call('/v1/functions/greeter')).body.address).toMatchObject({ addresses: ['127.0.32.1'] });
    // Without pools nothing is asked: no function shows a pending address.
    const bare = await dev(['echo'], tmp());
    expect((await bare.call('/v1/functions/echo')).body.address).toBeUndefined();
    expect((await bare.call('/v1/eip/pools')).body).toEqual({ pools: [] });
  });

  it('answers mutated apply and allocation bodies with coded 4xx errors and keeps serving', async () => {
    const d = await dev(['echo'], tmp(), POOLS);
    let seed = 0x5eed;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const mutate = (text: string) => {
      const b = Buffer.from(text);
      for (let k = 0; k < 1 + Math.floor(rnd() * 6); k++) {
        const at = Math.floor(rnd() * b.length);
        b[at] = rnd() < 0.5 ? Math.floor(rnd() * 256) : b[Math.floor(rnd() * b.length)]!;
      }
      return rnd() < 0.2 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
    };
    const alloc = JSON.stringify({ namespace: 'shop', name: 'svc', ips: ['127.0.31.2'], pool: 'web-pool' });
    for (let i = 0; i < 150; i++) {
      const [path, base] = i % 2 ? ['/v1/eip/allocations', alloc] : ['/v1/eip/apply', POOLS];
      const headers = { 'content-type': i % 2 ? 'application/json' : 'application/yaml' };
      const r = await d.call(path, { method: 'POST', headers, body: mutate(base) }).catch((err: unknown) => ({
        status: 0,
        body: { err: String(err) },
      }));
      const ok = r.status >= 200 && r.status < 300;
      const coded =
        r.status >= 400 &&
        r.status < 500 &&
        /^SPROUT_ERR_/.test(String((r.body.error as { code?: string })?.code));
      expect(ok || coded, `seed ${seed} ${path}: ${r.status} ${JSON.stringify(r.body)}`).toBe(true);
      // The body reached the parser: the guard let the typed body through.
      expect(r.status, `seed ${seed} ${path}`).not.toBe(415);
    }
    expect((await d.call('/v1/health')).status).toBe(200);
    expect((await d.call('/v1/eip/pools')).status).toBe(200);
  });
});
