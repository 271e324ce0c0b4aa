import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { isTriggersError, openPubSub } from '../src/index.js';
import { describePubSubConformance, waitFor } from './conformance.js';
import { killSockets, ownSockets } from './drop.js';

const NAME = `sprout-mqtt-conf-${process.pid}`;
const URL = 'tcp://127.0.0.1:1883';
let opens = 0;

describePubSubConformance('mqtt3', {
  // Each engine is one replica: its own consumerID, so client ids (and sessions) never collide.
  open: () =>
    openPubSub({
      name: NAME,
      type: 'pubsub.mqtt3',
      metadata: { url: URL, consumerID: `${NAME}-${opens++}` },
    }),
  countsAttempts: true,
  redeliversOnNack: true,
  redeliversAfterClose: true,
  lagCountsWaiting: false,
  async dropConnections() {
    killSockets(1883, ownSockets(1883));
  },
});

describe('pubsub.mqtt3 specifics', () => {
  it('is reached under the pubsub.mqtt alias and takes messages from a plain MQTT client', async () => {
    const topic = `${NAME}/plain`;
    const e = await openPubSub({
      name: NAME,
      type: 'pubsub.mqtt',
      metadata: { url: URL, consumerID: `${NAME}-alias` },
    });
    expect(e.type).toBe('pubsub.mqtt3');
    const got: string[] = [];
    const sub = await e.subscribe({
      topic,
      group: 'g',
      maxInFlight: 2,
      onMessage: (d) => {
        got.push(new TextDecoder().decode(d.data));
        void d.ack();
      },
      onError: () => {},
    });
    const plain = await connectAsync('mqtt://127.0.0.1:1883');
    try {
      for (let i = 0; i < 5; i++) await plain.publishAsync(topic, `p${i}`, { qos: 1 });
      await waitFor(() => got.length === 5, 'five messages');
      expect(got.sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    } finally {
      await plain.endAsync();
      await sub.close();
      await e.close();
    }
  });

  it('refuses malformed values (TLS material that is not PEM too), naming the key', async () => {
    const open = (md: Record<string, string>) =>
      openPubSub({ name: 'bad', type: 'pubsub.mqtt3', metadata: { url: URL, ...md } }).catch(
        (e: unknown) => e,
      );
    for (const md of [{ qos: '3' }, { url: 'http://x' }, { cleanSession: 'yes' }, { caCert: 'x' }]) {
      const err = await open(md);
      expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_METADATA_INVALID'), JSON.stringify(md)).toBe(true);
    }
    const down = await open({ url: 'tcp://127.0.0.1:1' });
    expect(isTriggersError(down, 'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE')).toBe(true);
  });
});
