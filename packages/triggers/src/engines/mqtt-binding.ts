import { randomUUID } from 'node:crypto';
import type { IClientOptions, MqttClient } from 'mqtt';
import type {
  BindingResponse,
  ComponentConfig,
  InputBindingEngine,
  MessageMetadata,
  OutputBindingEngine,
  SubscribeOptions,
  Subscription,
} from '../broker.js';
import { Metadata } from './metadata.js';
import {
  MQTT_TLS_KEYS,
  connectMqtt,
  mqttOptions,
  mqttQos,
  subscribeMqtt,
  type MqttSource,
  type Qos,
} from './mqtt.js';
import { OutputBinding, bufferOf } from './output.js';

/**
 * Dapr's `bindings.mqtt3` (alias `bindings.mqtt`) output: `create` publishes the data to `topic`
 * (request metadata `topic` overrides it, `retain` too) with the component's QoS (default 1), and
 * resolves once the broker has it (PUBACK).
 */
export class MqttBinding extends OutputBinding implements OutputBindingEngine {
  readonly type = 'bindings.mqtt3';
  readonly operations = ['create'] as const;

  private constructor(
    config: ComponentConfig,
    private readonly client: MqttClient,
    private readonly topic: string | undefined,
    private readonly qos: 0 | 1 | 2,
    private readonly retain: boolean,
  ) {
    super(config);
  }

  static async open(config: ComponentConfig): Promise<MqttBinding> {
    const md = bindingMetadata(config, 'output');
    const qos = mqttQos(md);
    const { url, options } = mqttOptions(md);
    const clientId = md.string('consumerID');
    const client = await connectMqtt(
      url,
      { ...options, clean: md.bool('cleanSession', true), ...(clientId ? { clientId } : {}) },
      config.name,
    );
    return new MqttBinding(config, client, md.string('topic'), qos, md.bool('retain', false));
  }

  protected async run(
    operation: string,
    data: Uint8Array,
    metadata: MessageMetadata,
  ): Promise<BindingResponse> {
    const topic = metadata.topic || this.topic;
    if (!topic) return this.need(metadata, 'topic', operation) as never;
    if (!this.client.connected) throw this.failed(operation, 'not connected to the broker (reconnecting)');
    const retain = metadata.retain === undefined ? this.retain : metadata.retain === 'true';
    await this.client.publishAsync(topic, bufferOf(data), { qos: this.qos, retain });
    return {};
  }

  async close(): Promise<void> {
    await this.client.endAsync().catch(() => {});
  }
}

/**
 * Dapr's bindings.mqtt3 metadata (the same keys for input and output); `direction` may name both
 * (`input, output`), but must name `want`. `backOffMaxRetries` is validated only: an output publish
 * is tried once (the caller retries) and an input's retries are the function's retry policy.
 */
function bindingMetadata(config: ComponentConfig, want: 'input' | 'output'): Metadata {
  const md = new Metadata(config, [
    'url',
    'topic',
    'qos',
    'retain',
    'cleanSession',
    'consumerID',
    'backOffMaxRetries',
    'direction',
    ...MQTT_TLS_KEYS,
  ]);
  const direction = md.string('direction');
  const named = direction?.split(',').map((d) => d.trim().toLowerCase());
  if (named && (!named.includes(want) || named.some((d) => d !== 'input' && d !== 'output')))
    throw md.invalid('direction', `must be "${want}" or "input, output" here (got "${direction}")`);
  md.int('backOffMaxRetries', 0, -1);
  return md;
}

/**
 * Dapr's `bindings.mqtt3` (alias `bindings.mqtt`) input: the messages of `topic`, read as
 * pubsub.mqtt3 reads a subscription (same connections, same at-least-once: the PUBACK waits for the
 * ack) through `$share/{consumerID}/{topic}`, client ids `{consumerID}-{topic hash}-{n}`. Without a
 * consumerID the component's name is the group. Each delivery carries metadata `topic`, as Dapr's.
 */
export class MqttInputBinding implements InputBindingEngine, MqttSource {
  readonly type = 'bindings.mqtt3';
  readonly slots = new Map<string, Set<number>>();
  private readonly reads = new Set<Subscription>();

  private constructor(
    readonly config: ComponentConfig,
    readonly url: string,
    readonly options: IClientOptions,
    readonly topic: string,
    readonly settings: { qos: Qos; clean: boolean; consumerID: string | undefined },
  ) {}

  static async open(config: ComponentConfig): Promise<MqttInputBinding> {
    const md = bindingMetadata(config, 'input');
    const { url, options } = mqttOptions(md);
    const topic = md.required('topic');
    md.bool('retain', false); // validated; retain applies to what is published, and this only reads
    const settings = {
      qos: mqttQos(md),
      clean: md.bool('cleanSession', false),
      consumerID: md.string('consumerID')?.replaceAll('{uuid}', randomUUID()),
    };
    // Reachable now, so a wrong url fails when the component opens, not at the first read.
    const probe = await connectMqtt(url, { ...options, clean: true }, config.name);
    await probe.endAsync().catch(() => {});
    return new MqttInputBinding(config, url, options, topic, settings);
  }

  async read(options: Omit<SubscribeOptions, 'topic' | 'group'>): Promise<Subscription> {
    const sub = await subscribeMqtt(
      this,
      {
        ...options,
        topic: this.topic,
        group: this.settings.consumerID ?? this.config.name,
        onMessage: (d) => options.onMessage({ ...d, metadata: { topic: d.topic } }),
      },
      (s) => this.reads.delete(s),
    );
    this.reads.add(sub);
    return sub;
  }

  async close(): Promise<void> {
    for (const r of [...this.reads]) await r.close();
  }
}
