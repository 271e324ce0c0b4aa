import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { ComponentRef } from '../context.js';
import type { ComponentSpec, Output } from './output.js';

/**
 * The CloudEvent daprd publishes for an app (`com.dapr.event.sent`, source the app id), around
 * `data`; data that is already a CloudEvent is kept and gains the topic and pub/sub name.
 */
function daprEnvelope(
  data: unknown,
  topic: string,
  pubsubname: string,
  appId: string,
  headers: Record<string, string>,
): Record<string, unknown> {
  if (data && typeof data === 'object' && !Buffer.isBuffer(data) && 'specversion' in data) {
    return { ...data, topic, pubsubname };
  }
  const tp = headers.traceparent;
  return {
    id: randomUUID(),
    source: appId,
    type: 'com.dapr.event.sent',
    specversion: '1.0',
    datacontenttype: Buffer.isBuffer(data)
      ? 'application/octet-stream'
      : typeof data === 'string'
        ? 'text/plain'
        : 'application/json',
    ...(Buffer.isBuffer(data) ? { data_base64: data.toString('base64') } : { data }),
    topic,
    pubsubname,
    time: new Date().toISOString(),
    ...(tp ? { traceid: tp, traceparent: tp, tracestate: headers.tracestate ?? '' } : {}),
  };
}

/**
 * Dapr's `bindings.mqtt3` (and its older name `bindings.mqtt`) and `pubsub.mqtt3` (and
 * `pubsub.mqtt`) outputs, natively, with MQTT.js: the component's `url` is the broker, the topic is
 * the output's `uri` (pub/sub) or the component's `topic` (binding), `qos` defaults to 1 so a send
 * resolves only once the broker acknowledged it. A binding publishes the data as it is; pub/sub
 * publishes it in the CloudEvent daprd would wrap it in, unless the output's metadata sets
 * `rawPayload: "true"` (Dapr's switch for the same).
 */
export class MqttOutput implements Output {
  #client: Promise<MqttClient> | undefined;

  constructor(
    readonly name: string,
    private readonly spec: ComponentSpec,
    private readonly appId = 'sprout',
  ) {}

  async send(data: unknown, ref: ComponentRef, headers: Record<string, string> = {}): Promise<unknown> {
    const topic = ref.uri || ref.metadata?.topic || this.spec.metadata.topic;
    if (!topic) throw new Error('no topic: set the output uri or the component topic metadata');
    const qos = Number(this.spec.metadata.qos ?? 1) as 0 | 1 | 2;
    const retain = this.spec.metadata.retain === 'true';
    const wrap = this.spec.type.startsWith('pubsub.') && ref.metadata?.rawPayload !== 'true';
    const body = wrap ? daprEnvelope(data, topic, this.spec.name, this.appId, headers) : data;
    const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
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
