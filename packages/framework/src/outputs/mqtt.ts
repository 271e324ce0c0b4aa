import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { ComponentRef } from '../context.js';
import type { ComponentSpec, Output } from './output.js';

/**
 * Dapr's `bindings.mqtt3` (and its older name `bindings.mqtt`) and `pubsub.mqtt3` outputs, natively, with MQTT.js: the component's `url`
 * is the broker, the topic is the output's `uri` (pub/sub) or the component's `topic` (binding),
 * `qos` defaults to 1 so a send resolves only once the broker acknowledged it.
 */
export class MqttOutput implements Output {
  #client: Promise<MqttClient> | undefined;

  constructor(
    readonly name: string,
    private readonly spec: ComponentSpec,
  ) {}

  async send(data: unknown, ref: ComponentRef): Promise<unknown> {
    const topic = ref.uri || ref.metadata?.topic || this.spec.metadata.topic;
    if (!topic) throw new Error('no topic: set the output uri or the component topic metadata');
    const qos = Number(this.spec.metadata.qos ?? 1) as 0 | 1 | 2;
    const retain = this.spec.metadata.retain === 'true';
    const payload = typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data);
    const client = await this.#connect();
    await client.publishAsync(topic, payload, { qos, retain });
    return undefined;
  }

  #connect(): Promise<MqttClient> {
    this.#client ??= (async () => {
      const { connectAsync } = await import('mqtt');
      const url = this.spec.metadata.url ?? 'tcp://127.0.0.1:1883';
      return connectAsync(url, {
        // Dapr fills `{uuid}` in a consumerID with a fresh UUID, as OpenFunction's samples expect.
        clientId: (this.spec.metadata.consumerID ?? `sprout-${this.name}-${process.pid}`).replaceAll(
          '{uuid}',
          randomUUID(),
        ),
        connectTimeout: 5_000,
        reconnectPeriod: 1_000,
      });
    })();
    this.#client.catch(() => (this.#client = undefined));
    return this.#client;
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    if (c) await (await c.catch(() => undefined))?.endAsync();
  }
}
