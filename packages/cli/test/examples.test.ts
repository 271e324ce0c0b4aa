import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
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
      expect(JSON.parse(await got)).toEqual({ orderId: 'o1', total: 3 });
      expect(readdirSync(join(dataDir, 'state')).some((f) => f.startsWith('orders-db'))).toBe(true);
    } finally {
      await sub.endAsync();
    }
  });
});
