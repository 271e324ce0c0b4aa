import { connect as tcpConnect } from 'node:net';
import { connect as h2Connect } from 'node:http2';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRng } from '@sprout/http/testing';
import { MqttExternalScaler } from '../src/index.js';
import { waitFor } from './conformance.js';
import { call, callError, ref, scalerClient, type Ref, type ScalerClient } from './scaler-client.js';

const TOPIC = `sprout-scaler-${process.pid}-${Date.now().toString(36)}`;

describe("Sprout's MQTT external scaler for KEDA (gRPC, Mosquitto)", () => {
  let scaler: MqttExternalScaler;
  let client: ScalerClient;
  let mqtt: MqttClient;

  beforeAll(async () => {
    scaler = await MqttExternalScaler.listen({
      url: 'tcp://127.0.0.1:1883',
      windowMs: 1500,
      streamIntervalMs: 100,
    });
    client = scalerClient(scaler.address);
    mqtt = await connectAsync('mqtt://127.0.0.1:1883', { clientId: `scaler-pub-${process.pid}` });
  });
  afterAll(async () => {
    client?.close();
    await mqtt?.endAsync();
    await scaler?.close();
  });

  it('answers the metric spec with the trigger target, and a backlog of what was published', async () => {
    const md = ref({ topic: TOPIC, targetValue: '2', activationTargetValue: '3' });
    const spec = await call<Ref, { metricSpecs: unknown[] }>(client, 'GetMetricSpec', md);
    expect(spec.metricSpecs).toEqual([{ metricName: `mqtt-${TOPIC}`, targetSize: 2, targetSizeFloat: 2 }]);
    expect(await call(client, 'IsActive', md)).toEqual({ result: false });

    // A stream opened now says inactive, then active once the backlog passes the activation
    // threshold, then inactive again once the window has passed with nothing new.
    const seen: boolean[] = [];
    const stream = client.StreamIsActive(md);
    stream.on('data', (m: { result: boolean }) => seen.push(m.result));
    stream.on('error', () => undefined);
    await waitFor(() => seen.length === 1, 'the first stream message');

    for (let i = 0; i < 5; i++) await mqtt.publishAsync(TOPIC, `m${i}`, { qos: 1 });
    await waitFor(async () => {
      const m = await call<unknown, { metricValues: { metricValue: number }[] }>(client, 'GetMetrics', {
        scaledObjectRef: md,
        metricName: `s0-mqtt-${TOPIC}`,
      });
      return m.metricValues[0]!.metricValue === 5;
    }, 'a backlog of 5');
    expect(await call(client, 'IsActive', md)).toEqual({ result: true });
    await waitFor(() => seen.length === 3, 'active, then inactive after the window');
    expect(seen).toEqual([false, true, false]);
    expect(await call(client, 'IsActive', md)).toEqual({ result: false });
    stream.cancel();
  });

  it('refuses malformed trigger metadata with INVALID_ARGUMENT, naming the field', async () => {
    for (const [md, field] of [
      [{}, 'scalerMetadata.metadata.topic'],
      [{ topic: TOPIC, targetValue: 'x' }, 'scalerMetadata.metadata.targetValue'],
      [{ topic: TOPIC, url: 'http://127.0.0.1:1883' }, 'url'],
    ] as const) {
      const err = await callError(client, 'IsActive', ref(md));
      expect(err?.code, JSON.stringify(md)).toBe(3); // INVALID_ARGUMENT
      expect(err?.details).toContain(field);
    }
  });

  it('keeps serving after random bytes and malformed gRPC frames (fuzz)', async () => {
    const rng = seededRng();
    const [host, port] = [scaler.host, scaler.port];
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((done) => {
        const s = tcpConnect(port, host, () => s.end(rng.bytes(rng.int(1, 2048))));
        s.on('error', () => done());
        s.on('close', () => done());
        s.resume();
      });
    }
    const h2 = h2Connect(`http://${host}:${port}`);
    h2.on('error', () => undefined);
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((done) => {
        const req = h2.request({
          ':method': 'POST',
          ':path': '/externalscaler.ExternalScaler/IsActive',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        req.on('error', () => done());
        req.on('close', () => done());
        req.resume();
        const body = rng.bytes(rng.int(0, 512));
        // Half the time a well-formed frame around random protobuf bytes.
        if (rng.next() < 0.5) {
          const head = Buffer.alloc(5);
          head.writeUInt32BE(body.length, 1);
          req.end(Buffer.concat([head, body]));
        } else req.end(body);
      });
    }
    h2.close();
    expect(await call(client, 'IsActive', ref({ topic: TOPIC }))).toEqual({ result: false });
  }, 30_000);
});
