import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { connectMqtt, mqttOptions, MQTT_TLS_KEYS } from '../engines/mqtt.js';
import { Metadata } from '../engines/metadata.js';

/** TLS to the broker in Dapr's metadata names (PEM text). */
export interface BrokerTls {
  caCert?: string;
  clientCert?: string;
  clientKey?: string;
}

/** Arrivals remembered per topic at most; beyond it the count stops growing (it is already high). */
const MAX_REMEMBERED = 100_000;

/**
 * What a cluster's MQTT scaler can see of a topic. MQTT brokers show no queue depth, and the
 * function's own subscription (what the local `mqtt` scaler reads) lives in another pod; so the
 * scaler holds its own subscription to the topic (QoS 1, a clean session of its own, not the
 * function's shared group, so it takes nothing from the function) and counts what was published in
 * the last `windowMs`: messages that may still be waiting. A quiet topic reads 0 once a window has
 * passed, which is what lets the function scale to zero.
 */
export class MqttTopicWatch {
  private readonly arrivals: number[] = [];
  private head = 0;

  private constructor(
    readonly url: string,
    readonly topic: string,
    private readonly client: MqttClient,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {
    client.on('message', (t) => {
      if (t !== topic && !topicMatches(topic, t)) return;
      if (this.arrivals.length - this.head >= MAX_REMEMBERED) this.head++;
      this.arrivals.push(this.now());
    });
  }

  /**
   * Connects to `url` (Dapr's `url` forms: tcp://, ssl://, mqtt://, mqtts://) and subscribes to
   * `topic`. `tls` is Dapr's `caCert`/`clientCert`/`clientKey` (PEM) for a TLS url.
   */
  static async open(
    url: string,
    topic: string,
    windowMs: number,
    tls: BrokerTls = {},
    now = Date.now,
  ): Promise<MqttTopicWatch> {
    const metadata = { url, ...tls };
    const { url: u, options } = mqttOptions(
      new Metadata({ name: 'mqtt-scaler', type: 'pubsub.mqtt3', metadata }, ['url', ...MQTT_TLS_KEYS]),
    );
    const client = await connectMqtt(
      u,
      { ...options, clean: true, clientId: `sprout-mqtt-scaler-${randomUUID()}` },
      'mqtt-scaler',
    );
    // Resubscribe after a reconnect: a clean session forgets its subscriptions.
    client.on('connect', () => void client.subscribeAsync(topic, { qos: 1 }).catch(() => undefined));
    try {
      await client.subscribeAsync(topic, { qos: 1 });
    } catch (err) {
      client.end(true);
      throw err;
    }
    return new MqttTopicWatch(url, topic, client, windowMs, now);
  }

  /** Messages published to the topic in the last window. */
  backlog(): number {
    const since = this.now() - this.windowMs;
    while (this.head < this.arrivals.length && this.arrivals[this.head]! <= since) this.head++;
    if (this.head > 1024 && this.head * 2 > this.arrivals.length) {
      this.arrivals.splice(0, this.head);
      this.head = 0;
    }
    return this.arrivals.length - this.head;
  }

  close(): Promise<void> {
    return this.client.endAsync(true);
  }
}

/** MQTT topic filter matching (`+` one level, `#` the rest). */
function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}
