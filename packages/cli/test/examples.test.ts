import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connectAsync, type MqttClient } from 'mqtt';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { createManifestValidator } from '@sprout/kube';
import { createLogger } from '@sprout/observe';
import { startDev } from '@sprout/platform';
import { loadFunctionDir, loadResources } from '@sprout/spec';
import { killAll, root, serveSprout } from './sprout.js';

const dataDir = mkdtempSync(join(tmpdir(), 'sprout-examples-'));
afterAll(() => {
  killAll();
  rmSync(dataDir, { recursive: true, force: true });
});

const serve = async (args: string[]): Promise<string> =>
  (await serveSprout([...args, '--data-dir', dataDir])).url;

describe('the examples in the docs run as written', () => {
  it('examples/hello', async () => {
    const url = await serve(['run', 'examples/hello']);
    expect(await (await fetch(`${url}/?name=docs`)).text()).toBe('Hello, docs!\n');
  });

  it('examples/cloudevent (written for Google functions framework)', async () => {
    const url = await serve(['run', 'examples/cloudevent']);
    const r = await fetch(url, {
      method: 'POST',
      headers: {
        'ce-specversion': '1.0',
        'ce-id': '1',
        'ce-source': '/shop',
        'ce-type': 'order.created',
        'content-type': 'application/json',
      },
      body: '{"id":7}',
    });
    expect(await r.json()).toEqual({ received: '1', type: 'order.created', order: { id: 7 } });
  });

  it('examples/order: ctx.state on embedded SQLite and ctx.send to MQTT', async () => {
    const context = readFileSync(`${root}examples/order/context.json`, 'utf8');
    const url = await serve([
      'run',
      'examples/order',
      '--signature-type',
      'openfunction',
      '--resources-path',
      'examples/order/components',
      '--context',
      context,
    ]);
    const sub = await connectAsync('mqtt://127.0.0.1:1883');
    await sub.subscribeAsync('shop/orders', { qos: 1 });
    const got = new Promise<string>((resolve) => sub.on('message', (_t, p) => resolve(p.toString())));
    try {
      const post = () =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"id":"o1","total":3}',
        }).then((r) => r.json());
      expect(await post()).toEqual({ accepted: 'o1', seen: 1 });
      expect(await post()).toEqual({ accepted: 'o1', seen: 2 });
      // pub/sub: the CloudEvent daprd would publish, around the data ctx.send was given
      expect(JSON.parse(await got)).toMatchObject({
        type: 'com.dapr.event.sent',
        topic: 'shop/orders',
        data: { orderId: 'o1', total: 3 },
      });
      expect(readdirSync(join(dataDir, 'state')).some((f) => f.startsWith('orders-db'))).toBe(true);
    } finally {
      await sub.endAsync();
    }
  });
});

/** `sprout dev` in this process on free ports, serving one folder. */
const devOn = (dir: string) =>
  startDev({
    paths: [join(root, dir)],
    dataDir: mkdtempSync(join(dataDir, 'dev-')),
    port: 0,
    host: '127.0.0.1',
    apiPort: 0,
    standby: 0,
    collector: false,
    eip: false,
    logger: createLogger({ name: 'examples-test', level: 'silent' }),
  });

const postJson = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The next message on shop/orders after `act`. */
async function published(sub: MqttClient, act: () => Promise<unknown>): Promise<unknown> {
  const got = new Promise<string>((resolve) => sub.once('message', (_t, p) => resolve(p.toString())));
  await act();
  return JSON.parse(await got);
}

describe('the examples that carry a function.yaml', () => {
  it('describe exactly what the code is, and are valid OpenFunction Functions', () => {
    const validator = createManifestValidator();
    for (const dir of ['examples/order', 'examples/state-orders']) {
      validator.assertValid(parse(readFileSync(join(root, dir, 'function.yaml'), 'utf8')));
    }
    // examples/order: the FUNC_CONTEXT it derives is context.json's, and its components are the
    // resources folder's (the `orders` MQTT pub/sub) plus the embedded orders-db store.
    const order = loadFunctionDir(join(root, 'examples/order'));
    expect({ name: order.name, target: order.target, signature: order.signatureType }).toEqual({
      name: 'order',
      target: 'order',
      signature: 'openfunction',
    });
    expect(order.context).toEqual({
      ...JSON.parse(readFileSync(join(root, 'examples/order/context.json'), 'utf8')),
      port: '8080',
    });
    const orderComponents = loadResources(join(root, 'examples/order/components')).components;
    const pubsub = order.components.find((c) => c.metadata.name === 'orders')!;
    expect(pubsub.spec).toEqual(orderComponents.find((c) => c.metadata.name === 'orders')!.spec);
    expect(order.components.map((c) => [c.metadata.name, c.spec.type])).toEqual([
      ['orders-db', 'state.sqlite'],
      ['orders', 'pubsub.mqtt3'],
    ]);
    // examples/state-orders: the function's stores are the two stores of components/.
    const stateOrders = loadFunctionDir(join(root, 'examples/state-orders'));
    expect({
      name: stateOrders.name,
      target: stateOrders.target,
      signature: stateOrders.signatureType,
    }).toEqual({
      name: 'state-orders',
      target: 'orders',
      signature: 'openfunction',
    });
    const stores = loadResources(join(root, 'examples/state-orders/components'), {
      appId: 'orders',
    }).components;
    const typesOf = (cs: { metadata: { name: string }; spec: { type: string } }[]) =>
      Object.fromEntries(cs.map((c) => [c.metadata.name, c.spec.type]));
    expect(typesOf(stateOrders.components)).toEqual(typesOf(stores));
  });

  it('examples/order runs from its function.yaml alone under sprout run and sprout dev', async () => {
    const sub = await connectAsync('mqtt://127.0.0.1:1883');
    await sub.subscribeAsync('shop/orders', { qos: 1 });
    const dev = await devOn('examples/order');
    try {
      // A data dir of its own: the orders-db counts start again.
      const fresh = mkdtempSync(join(dataDir, 'run-'));
      const { url } = await serveSprout(['run', 'examples/order', '--data-dir', fresh]);
      for (const base of [url, dev.url]) {
        let answer: unknown;
        const message = await published(sub, async () => {
          answer = await (await postJson(base, { id: 'o1', total: 3 })).json();
        });
        expect(answer, base).toEqual({ accepted: 'o1', seen: 1 });
        expect(message, base).toMatchObject({ pubsubname: 'orders', data: { orderId: 'o1', total: 3 } });
      }
    } finally {
      await dev.close();
      await sub.endAsync();
    }
  });

  it('examples/state-orders: the function under sprout run and sprout dev, and the script on its own', async () => {
    const oslo = { status: 'open', customer: { city: 'Oslo' } };
    const dev = await devOn('examples/state-orders');
    try {
      const url = await serve(['run', 'examples/state-orders']);
      for (const base of [url, dev.url]) {
        expect(await (await postJson(base, { id: 'o1', total: 30, ...oslo })).json(), base).toEqual({
          saved: 'o1',
          city: 'Oslo',
          orders: ['o1=30'],
          lastOrder: 'o1',
        });
        expect(await (await postJson(base, { id: 'o2', total: 50, ...oslo })).json(), base).toMatchObject({
          orders: ['o2=50', 'o1=30'],
          lastOrder: 'o2',
        });
        const bad = await postJson(base, { total: 1 });
        expect(bad.status, base).toBe(400);
      }
      expect(readdirSync(join(dataDir, 'state')).some((f) => f.startsWith('orders.db'))).toBe(true);
    } finally {
      await dev.close();
    }
    const script = await promisify(execFile)(
      process.execPath,
      ['--conditions=@sprout/source', '--import', 'tsx', 'examples/state-orders/index.ts'],
      { cwd: root, env: { ...process.env, NODE_OPTIONS: '' } },
    );
    expect(script.stdout).toContain('Oslo orders ≥ 20: o3=50, o1=30\n');
  });
});
