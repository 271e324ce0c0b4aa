import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectAsync } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/sprout.js', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const children: ChildProcess[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'sprout-examples-'));
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function serve(args: string[], env: Record<string, string> = {}): Promise<string> {
  const child = spawn(
    process.execPath,
    [bin, ...args, '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir],
    {
      env: { ...process.env, SPROUT_LOG_FORMAT: 'json', ...env },
      cwd: root,
    },
  );
  children.push(child);
  return new Promise<string>((resolve, reject) => {
    let log = '';
    child.stderr!.on('data', (c: Buffer) => {
      log += c;
      const m = /"url":"(http:\/\/[^"]+?)\/?"/.exec(log);
      if (m && log.includes('"serving"')) resolve(m[1]!.replace(/\/$/, ''));
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${log}`)));
  });
}

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
