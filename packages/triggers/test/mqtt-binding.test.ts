// bindings.mqtt3 as an input binding on the real Mosquitto: what a plain MQTT client publishes is
// read with metadata `topic`, acked only when settled, redelivered after a close, and fed by the
// delivery engine to an app's POST /<binding name>.
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FunctionDelivery,
  isTriggersError,
  openInputBinding,
  type Delivery,
  type InputBindingEngine,
} from '../src/index.js';
import { waitFor } from './conformance.js';
import { DeliveryApp, until } from './delivery-app.js';

const NAME = `sprout-mqtt-in-${process.pid}`;
const URL = 'tcp://127.0.0.1:1883';
const text = (d: Delivery) => new TextDecoder().decode(d.data);

describe('bindings.mqtt3 input', () => {
  let plain: MqttClient;
  beforeAll(async () => {
    plain = await connectAsync('mqtt://127.0.0.1:1883');
  });
  afterAll(async () => {
    await plain?.endAsync();
  });

  const open = (topic: string, consumerID: string, extra: Record<string, string> = {}) =>
    openInputBinding({
      name: 'mqtt-in',
      type: 'bindings.mqtt',
      metadata: { url: URL, topic, consumerID, ...extra },
    });

  it('is reached under the bindings.mqtt alias and reads what a plain client publishes, with metadata topic', async () => {
    const topic = `${NAME}/plain`;
    const binding = await open(topic, `${NAME}-plain`);
    expect(binding.type).toBe('bindings.mqtt3');
    const got: Delivery[] = [];
    const read = await binding.read({
      maxInFlight: 2,
      onMessage: (d) => {
        got.push(d);
        void d.ack();
      },
      onError: () => {},
    });
    try {
      for (let i = 0; i < 6; i++) await plain.publishAsync(topic, `m${i}`, { qos: 1 });
      await waitFor(() => got.length === 6, 'six messages');
      expect(got.map(text).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
      expect(got.every((d) => d.metadata.topic === topic && d.attempt === 1)).toBe(true);
      expect(await read.lag()).toBe(0);
    } finally {
      await read.close();
      await binding.close();
    }
  });

  it('holds at most maxInFlight unsettled; what was not acked comes back to the same consumerID after a close', async () => {
    const topic = `${NAME}/again`;
    const consumerID = `${NAME}-again`;
    let binding = await open(topic, consumerID);
    const first: Delivery[] = [];
    let read = await binding.read({ maxInFlight: 1, onMessage: (d) => first.push(d), onError: () => {} });
    await plain.publishAsync(topic, 'a', { qos: 1 });
    await plain.publishAsync(topic, 'b', { qos: 1 });
    await waitFor(() => first.length === 1, 'the first message');
    // One connection, one message: 'b' waits in the broker until 'a' is settled.
    await new Promise((r) => setTimeout(r, 200));
    expect(first.map(text)).toEqual(['a']);
    expect(await read.lag()).toBe(1);
    await read.close();
    await binding.close();

    binding = await open(topic, consumerID);
    const second: Delivery[] = [];
    read = await binding.read({
      maxInFlight: 1,
      onMessage: (d) => {
        second.push(d);
        void d.ack();
      },
      onError: () => {},
    });
    try {
      await waitFor(() => second.length === 2, 'both messages after the restart');
      expect(second.map(text)).toEqual(['a', 'b']);
      expect(second[0]!.attempt).toBe(2); // resent by the session (DUP)
    } finally {
      await read.close();
      await binding.close();
    }
  });

  it('feeds the delivery engine: POST /<binding name> with the bytes and metadata topic; a failed answer is retried', async () => {
    const topic = `${NAME}/delivery`;
    const binding: InputBindingEngine = await open(topic, `${NAME}-delivery`);
    const app = await DeliveryApp.start();
    let failures = 1;
    app.answer = (_req, res) => {
      if (failures-- > 0) return void res.writeHead(500).end('not yet');
      res.writeHead(200).end();
    };
    const fn = await FunctionDelivery.start([{ kind: 'binding', name: 'mqtt-in', engine: binding }], {
      target: app.target(),
      maxInFlight: 4,
      retry: { duration: '5ms', maxRetries: 3 },
    });
    try {
      await plain.publishAsync(topic, '{"temperature":21}', { qos: 1 });
      await until(() => fn.counts()['mqtt-in']!.delivered === 1, 'the delivery');
      expect(app.received.map((r) => r.path)).toEqual(['/mqtt-in', '/mqtt-in']);
      expect(app.received[1]!.json).toEqual({ temperature: 21 });
      expect(app.received[1]!.headers.topic).toBe(topic);
      expect(fn.counts()['mqtt-in']).toMatchObject({ delivered: 1, failed: 1, retried: 1 });
    } finally {
      await fn.close();
      await binding.close();
      await app.close();
    }
  });

  it('refuses an unknown key, a missing topic, a wrong direction and malformed values, naming the key', async () => {
    const fail = (md: Record<string, string>) =>
      openInputBinding({ name: 'bad', type: 'bindings.mqtt3', metadata: { url: URL, ...md } }).catch(
        (e: unknown) => e,
      );
    const unknown = await fail({ topic: 't', nope: '1' });
    expect(isTriggersError(unknown, 'SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED')).toBe(true);
    for (const [md, field] of [
      [{}, 'metadata.topic'],
      [{ topic: 't', direction: 'output' }, 'metadata.direction'],
      [{ topic: 't', direction: 'input, sideways' }, 'metadata.direction'],
      [{ topic: 't', qos: '3' }, 'metadata.qos'],
      [{ topic: 't', cleanSession: 'yes' }, 'metadata.cleanSession'],
      [{ topic: 't', backOffMaxRetries: '-2' }, 'metadata.backOffMaxRetries'],
      [{ topic: 't', url: 'http://x' }, 'metadata.url'],
      // TLS material that is not PEM (test/mqtt-tls.test.ts: TLS against a real broker).
      [{ topic: 't', caCert: 'x' }, 'metadata.caCert'],
      [{ topic: 't', clientCert: 'x' }, 'metadata.clientCert'],
    ] as const) {
      const err = await fail(md);
      expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_METADATA_INVALID'), JSON.stringify(md)).toBe(true);
      expect((err as { field?: string }).field).toBe(field);
    }
    const both = await openInputBinding({
      name: 'both',
      type: 'bindings.mqtt3',
      metadata: { url: URL, topic: 't', direction: 'input, output', backOffMaxRetries: '-1' },
    });
    await both.close();
    const down = await fail({ topic: 't', url: 'tcp://127.0.0.1:1' });
    expect(isTriggersError(down, 'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE')).toBe(true);
  });
});
