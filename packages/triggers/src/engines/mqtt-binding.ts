import type { MqttClient } from 'mqtt';
import type { BindingResponse, ComponentConfig, MessageMetadata, OutputBindingEngine } from '../broker.js';
import { Metadata } from './metadata.js';
import { MQTT_REFUSED, connectMqtt, mqttOptions } from './mqtt.js';
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
    const md = new Metadata(
      config,
      ['url', 'topic', 'qos', 'retain', 'cleanSession', 'consumerID', 'backOffMaxRetries', 'direction'],
      MQTT_REFUSED,
    );
    md.oneOf('direction', ['output'], 'output');
    md.int('backOffMaxRetries', 0, -1); // validated; a publish is tried once, the caller retries
    const qos = md.int('qos', 1);
    if (qos > 2) throw md.invalid('qos', 'must be 0, 1 or 2');
    const { url, options } = mqttOptions(md);
    const clientId = md.string('consumerID');
    const client = await connectMqtt(
      url,
      { ...options, clean: md.bool('cleanSession', true), ...(clientId ? { clientId } : {}) },
      config.name,
    );
    return new MqttBinding(config, client, md.string('topic'), qos as 0 | 1 | 2, md.bool('retain', false));
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
