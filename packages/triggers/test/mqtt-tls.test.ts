// pubsub.mqtt3 and bindings.mqtt3 over TLS (Dapr's caCert, clientCert, clientKey) against a private
// Mosquitto with a TLS listener that requires client certificates, all made by openssl here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTriggersError, MqttExternalScaler, openOutputBinding, openPubSub } from '../src/index.js';
import { expectUntrustedRefused, makeCerts, type TestCerts } from './certs.js';
import { waitFor } from './conformance.js';
import { collect } from './delivery-app.js';
import { PrivateBroker } from './private-broker.js';
import { call, callError, ref, scalerClient } from './scaler-client.js';

describe('MQTT over TLS with a client certificate (private Mosquitto)', () => {
  let certs: TestCerts;
  let broker: PrivateBroker;
  let url: string;

  beforeAll(async () => {
    certs = makeCerts();
    broker = await PrivateBroker.start('mosquitto', {
      mosquittoListener: [
        `cafile ${certs.dir}/ca.crt`,
        `certfile ${certs.dir}/server.crt`,
        `keyfile ${certs.dir}/server.key`,
        'require_certificate true',
      ],
    });
    url = `ssl://${broker.address}`;
  }, 60_000);
  afterAll(async () => {
    await broker?.close();
    certs?.remove();
  });

  it('pubsub.mqtt3 publishes and delivers; bindings.mqtt3 publishes to it', async () => {
    const bus = await openPubSub({
      name: 'tls-bus',
      type: 'pubsub.mqtt3',
      metadata: { url, ...certs.tls() },
    });
    const out = await openOutputBinding({
      name: 'tls-out',
      type: 'bindings.mqtt3',
      metadata: { url, topic: 'tls/orders', ...certs.tls() },
    });
    try {
      const { got } = await collect(bus, 'tls/orders', 'g');
      await bus.publish('tls/orders', new TextEncoder().encode('from the pub/sub'));
      await out.invoke('create', new TextEncoder().encode('from the binding'), {});
      await waitFor(() => got.length === 2, 'both messages over TLS');
      expect(got.map((d) => new TextDecoder().decode(d.data)).sort()).toEqual([
        'from the binding',
        'from the pub/sub',
      ]);
    } finally {
      await out.close();
      await bus.close();
    }
  });

  it('cannot connect without a client certificate, with one of another CA, or not trusting the broker', async () => {
    await expectUntrustedRefused(certs, (md) =>
      openPubSub({ name: 'tls-bad', type: 'pubsub.mqtt3', metadata: { url, ...md } }),
    );
  });

  it("the cluster scaler watches a topic on the TLS broker with the broker's CA and a client certificate", async () => {
    const topic = 'tls/scaled';
    const md = ref({ topic });
    const scaler = await MqttExternalScaler.listen({ url, brokerTls: certs.tls(), windowMs: 30_000 });
    const bare = await MqttExternalScaler.listen({ url });
    const c = scalerClient(scaler.address);
    const b = scalerClient(bare.address);
    const bus = await openPubSub({
      name: 'tls-pub',
      type: 'pubsub.mqtt3',
      metadata: { url, ...certs.tls() },
    });
    try {
      expect(await call(c, 'IsActive', md)).toEqual({ result: false }); // subscribed: counting from now
      for (let i = 0; i < 3; i++) await bus.publish(topic, new TextEncoder().encode(`m${i}`));
      await waitFor(async () => {
        const m = await call<unknown, { metricValues: { metricValue: number }[] }>(c, 'GetMetrics', {
          scaledObjectRef: md,
          metricName: 'mqtt-tls-scaled',
        });
        return m.metricValues[0]!.metricValue === 3;
      }, 'a backlog of 3 seen over TLS');
      // Without the certificates the broker is out of reach: UNAVAILABLE, not a reading of 0.
      expect((await callError(b, 'IsActive', md))?.code).toBe(14);
    } finally {
      c.close();
      b.close();
      await bus.close();
      await scaler.close();
      await bare.close();
    }
  });

  it('refuses TLS metadata that cannot work, naming the key', async () => {
    const { caCert, clientCert, clientKey } = certs.tls();
    for (const [md, key] of [
      [{ url: `tcp://${broker.address}`, caCert }, 'caCert'],
      [{ url, caCert, clientCert }, 'clientKey'],
      [{ url, clientKey }, 'clientCert'],
      [{ url, caCert: 'not a certificate' }, 'caCert'],
      [{ url, caCert, clientCert, clientKey: 'not a key' }, 'clientKey'],
    ] as const) {
      for (const type of ['pubsub.mqtt3', 'bindings.mqtt3']) {
        const metadata = type === 'bindings.mqtt3' ? { ...md, topic: 't' } : md;
        const open = type === 'pubsub.mqtt3' ? openPubSub : openOutputBinding;
        const err = await open({ name: 'tls-refused', type, metadata }).catch((e: unknown) => e);
        expect(
          isTriggersError(err, 'SPROUT_ERR_TRIGGERS_METADATA_INVALID'),
          `${type} ${key}: ${String(err)}`,
        ).toBe(true);
        expect((err as { field: string }).field).toBe(`metadata.${key}`);
      }
    }
  });
});
