// pubsub.rabbitmq and bindings.rabbitmq over TLS (Dapr's caCert, clientCert, clientKey on amqps://)
// against a private RabbitMQ node whose TLS listener requires client certificates (openssl-made).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTriggersError, openOutputBinding, openPubSub } from '../src/index.js';
import { expectUntrustedRefused, makeCerts, type TestCerts } from './certs.js';
import { waitFor } from './conformance.js';
import { collect } from './delivery-app.js';
import { PrivateBroker } from './private-broker.js';

describe('RabbitMQ over TLS with a client certificate (private node)', () => {
  let certs: TestCerts;
  let broker: PrivateBroker;
  let url: string;

  beforeAll(async () => {
    certs = makeCerts();
    broker = await PrivateBroker.start('rabbitmq', {
      rabbitmqTls: (tlsPort) => [
        `listeners.ssl.local = 127.0.0.1:${tlsPort}`,
        `ssl_options.cacertfile = ${certs.dir}/ca.crt`,
        `ssl_options.certfile = ${certs.dir}/server.crt`,
        `ssl_options.keyfile = ${certs.dir}/server.key`,
        'ssl_options.verify = verify_peer',
        'ssl_options.fail_if_no_peer_cert = true',
      ],
    });
    url = `amqps://guest:guest@127.0.0.1:${broker.tlsPort}`;
  }, 120_000);
  afterAll(async () => {
    await broker?.close();
    certs?.remove();
  }, 60_000);

  it('pubsub.rabbitmq publishes and delivers over amqps; bindings.rabbitmq sends over it', async () => {
    const bus = await openPubSub({
      name: 'tls-bus',
      type: 'pubsub.rabbitmq',
      metadata: { connectionString: url, ...certs.tls() },
    });
    const out = await openOutputBinding({
      name: 'tls-out',
      type: 'bindings.rabbitmq',
      metadata: { host: url, queueName: 'tls-queue', ...certs.tls() },
    });
    try {
      const { got } = await collect(bus, 'tls-orders', 'g');
      await bus.publish('tls-orders', new TextEncoder().encode('over amqps'));
      await waitFor(() => got.length === 1, 'the message over TLS');
      expect(new TextDecoder().decode(got[0]!.data)).toBe('over amqps');
      expect(await out.invoke('create', new TextEncoder().encode('{"id":1}'), {})).toBeDefined();
    } finally {
      await out.close();
      await bus.close();
    }
  }, 30_000);

  it('cannot connect without a client certificate, with one of another CA, or not trusting the broker', async () => {
    await expectUntrustedRefused(certs, (md) =>
      openPubSub({ name: 'tls-bad', type: 'pubsub.rabbitmq', metadata: { connectionString: url, ...md } }),
    );
  }, 30_000);

  it('refuses TLS material on a plain amqp:// url, or a certificate without its key, naming the key', async () => {
    const { caCert, clientCert } = certs.tls();
    const plain = `amqp://guest:guest@${broker.address}`;
    for (const [metadata, key] of [
      [{ connectionString: plain, caCert }, 'caCert'],
      [{ connectionString: url, caCert, clientCert }, 'clientKey'],
    ] as const) {
      const err = await openPubSub({ name: 'tls-refused', type: 'pubsub.rabbitmq', metadata }).catch(
        (e: unknown) => e,
      );
      expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_METADATA_INVALID'), String(err)).toBe(true);
      expect((err as { field: string }).field).toBe(`metadata.${key}`);
    }
    const binding = await openOutputBinding({
      name: 'tls-refused',
      type: 'bindings.rabbitmq',
      metadata: { host: plain, queueName: 'q', caCert },
    }).catch((e: unknown) => e);
    expect((binding as { field: string }).field).toBe('metadata.caCert');
  });
});
