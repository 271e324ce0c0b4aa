// OpenFunction's mqtt-io-node async-bindings sample, end to end on Mosquitto: @sprout/spec loads the
// vendored sample (only the broker address and topics changed), @sprout/triggers opens its
// bindings.mqtt input and output, the delivery engine hands each message to @sprout/framework's
// async runtime, and the sample's function (`ctx.send(data)`) sends it on through the Dapr bindings
// API to the mqtt-out topic. The test's own MQTT client (a publisher on `in`, a reader of `out`) is
// the same package's engines, each its own connection to the broker.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '@sprout/framework';
import { createLogger } from '@sprout/observe';
import { resolveFunctionText, type ResolvedFunction } from '@sprout/spec';
import {
  createDaprApiServer,
  type FunctionDelivery,
  openInputBinding,
  openOutputBinding,
  triggersFor,
  type ComponentConfig,
  type DaprApiServer,
  type InputBindingEngine,
  type OutputBindingEngine,
} from '@sprout/triggers';
import { deliverTo, until } from './helpers.js';

const quiet = createLogger({ level: 'silent' });
const base = `sprout-platform-mqtt-bindings-${process.pid}`;
const sampleFile = new URL(
  '../../spec/test/fixtures/openfunction/async/async-bindings.yaml',
  import.meta.url,
);

/** The component's metadata as the engines take it. */
function configOf(fn: ResolvedFunction, name: string): ComponentConfig {
  const c = fn.components.find((x) => x.metadata.name === name)!;
  const metadata: Record<string, string> = {};
  for (const m of c.spec.metadata)
    if ('value' in m && m.value !== undefined) metadata[m.name] = String(m.value);
  return { name, type: c.spec.type, metadata };
}

describe("OpenFunction's async-bindings sample on Mosquitto", () => {
  let fn: ResolvedFunction;
  let input: InputBindingEngine;
  let output: OutputBindingEngine;
  let api: DaprApiServer;
  let server: RunningServer;
  let delivery: FunctionDelivery;
  let feeder: OutputBindingEngine;
  let reader: InputBindingEngine;
  let readOut: { close(): Promise<void> } | undefined;
  const seen: unknown[] = [];
  const out: string[] = [];

  beforeAll(async () => {
    const text = readFileSync(sampleFile, 'utf8')
      .replaceAll('tcp://admin:public@emqx:1883', 'tcp://127.0.0.1:1883')
      .replace(/value: in$/m, `value: ${base}/in`)
      .replace(/value: out$/m, `value: ${base}/out`);
    fn = resolveFunctionText(text, 'async-bindings.yaml');
    input = await openInputBinding(configOf(fn, 'mqtt-in'));
    output = await openOutputBinding(configOf(fn, 'mqtt-out'));
    api = createDaprApiServer({
      pubsubs: {},
      bindings: { 'mqtt-out': output },
      appId: fn.name,
      logger: quiet,
    });
    const daprPort = new URL((await api.listen(0)).url).port;
    server = await serve({
      functions: {
        // The sample's tryAsync (mqtt-io-node/index.mjs): log the data and send it on.
        fn: async (ctx: { send(data: unknown): Promise<unknown> }, data: unknown) => {
          seen.push(data);
          await ctx.send(data);
        },
        context: fn.context,
      },
      port: 0,
      host: '127.0.0.1',
      logger: quiet,
      env: { DAPR_HTTP_PORT: daprPort },
    });
    const broker = { url: 'tcp://127.0.0.1:1883', consumerID: `${base}-test` };
    feeder = await openOutputBinding({
      name: 'feeder',
      type: 'bindings.mqtt3',
      metadata: { ...broker, topic: `${base}/in` },
    });
    reader = await openInputBinding({
      name: 'reader',
      type: 'bindings.mqtt3',
      metadata: { ...broker, topic: `${base}/out` },
    });
    readOut = await reader.read({
      maxInFlight: 10,
      onMessage: (d) => {
        out.push(new TextDecoder().decode(d.data));
        void d.ack();
      },
      onError: () => {},
    });
    delivery = await deliverTo(triggersFor(fn, { pubsubs: {}, bindings: { 'mqtt-in': input } }), server.url);
  });

  afterAll(async () => {
    await delivery?.close();
    await input?.close();
    await server?.close();
    await api?.close();
    await output?.close();
    await readOut?.close();
    await reader?.close();
    await feeder?.close();
  });

  it('the sample resolves to the async runtime with mqtt-in as its input and mqtt-out as its output', () => {
    expect(fn.context.runtime).toBe('async');
    expect(fn.triggers?.inputs).toEqual([
      { name: 'mqtt-in', componentName: 'mqtt-in', componentType: 'bindings.mqtt' },
    ]);
    expect(input.type).toBe('bindings.mqtt3');
  });

  it('a message published to the in topic reaches (ctx, data), and ctx.send puts it on the out topic', async () => {
    for (let i = 0; i < 5; i++)
      await feeder.invoke('create', new TextEncoder().encode(JSON.stringify({ reading: i })));
    await until(
      'five messages on the out topic, each acked',
      () => (out.length === 5 && delivery.counts()['mqtt-in']!.delivered === 5) || undefined,
    );
    expect(seen.map((d) => (d as { reading: number }).reading).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(out.map((o) => JSON.parse(o).reading).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(delivery.counts()['mqtt-in']).toMatchObject({ delivered: 5, failed: 0, inFlight: 0 });
    expect((await delivery.lag())['mqtt-in']).toBe(0);
  });
});
