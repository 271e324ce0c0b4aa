import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { BindingResponse, ComponentConfig, MessageMetadata, OutputBindingEngine } from '../broker.js';
import { TriggersError } from '../errors.js';
import { Metadata } from './metadata.js';
import { OutputBinding, bufferOf } from './output.js';
import { amqpTimestamp, TIMESTAMP_MS_HEADER } from './rabbitmq.js';
import { readTlsMaterial, TLS_KEYS } from './tls.js';

/**
 * Dapr's `bindings.rabbitmq` output: `create` sends the data to `queueName` (declared with
 * `durable`, `deleteWhenUnused`, `exclusive`, `maxPriority`, `ttlInSeconds`), persistent when
 * durable, on a confirm channel: it resolves once RabbitMQ has the message. Request metadata
 * `ttlInSeconds`, `priority` and `contentType` apply per message.
 */
export class RabbitBinding extends OutputBinding implements OutputBindingEngine {
  readonly type = 'bindings.rabbitmq';
  readonly operations = ['create'] as const;
  private channel: Promise<ConfirmChannel> | undefined;

  private constructor(
    config: ComponentConfig,
    private readonly conn: ChannelModel,
    private readonly queue: string,
    private readonly settings: { durable: boolean; options: Record<string, unknown>; contentType: string },
  ) {
    super(config);
    conn.on('error', () => undefined);
  }

  static async open(config: ComponentConfig): Promise<RabbitBinding> {
    const md = new Metadata(
      config,
      [
        'host',
        'queueName',
        'durable',
        'deleteWhenUnused',
        'ttlInSeconds',
        'prefetchCount',
        'exclusive',
        'maxPriority',
        'contentType',
        'reconnectWaitInSeconds',
        'direction',
        ...TLS_KEYS,
      ],
      { externalSasl: ['false'] },
    );
    md.oneOf('direction', ['output'], 'output');
    md.int('prefetchCount', 0); // an input setting: validated, no effect on output
    md.duration('reconnectWaitInSeconds', 5000); // validated; a failed create reconnects on the next call
    const args: Record<string, number> = {};
    if (md.string('ttlInSeconds')) args['x-message-ttl'] = md.int('ttlInSeconds', 0) * 1000;
    if (md.string('maxPriority')) args['x-max-priority'] = md.int('maxPriority', 1, 1);
    const durable = md.bool('durable', false);
    const settings = {
      durable,
      options: {
        durable,
        autoDelete: md.bool('deleteWhenUnused', false),
        exclusive: md.bool('exclusive', false),
        arguments: args,
      },
      contentType: md.string('contentType', 'text/plain'),
    };
    const queue = md.required('queueName');
    const host = md.required('host');
    const tls = readTlsMaterial(md, host.startsWith('amqps://'), 'an amqps:// host');
    try {
      return new RabbitBinding(config, await connect(host, { noDelay: true, ...tls }), queue, settings);
    } catch (err) {
      throw new TriggersError(
        'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE',
        `binding "${config.name}" (bindings.rabbitmq): RabbitMQ cannot be reached: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  private open(): Promise<ConfirmChannel> {
    this.channel ??= (async () => {
      const ch = await this.conn.createConfirmChannel();
      ch.on('error', () => undefined);
      ch.on('close', () => (this.channel = undefined));
      await ch.assertQueue(this.queue, this.settings.options);
      return ch;
    })();
    this.channel.catch(() => (this.channel = undefined));
    return this.channel;
  }

  protected async run(
    operation: string,
    data: Uint8Array,
    metadata: MessageMetadata,
  ): Promise<BindingResponse> {
    const ch = await this.open();
    const ttl = metadata.ttlInSeconds;
    const priority = metadata.priority;
    const now = Date.now();
    const options = {
      persistent: this.settings.durable,
      ...amqpTimestamp(now),
      headers: { [TIMESTAMP_MS_HEADER]: now },
      contentType: metadata.contentType ?? this.settings.contentType,
      ...(ttl && /^\d+$/.test(ttl) ? { expiration: String(Number(ttl) * 1000) } : {}),
      ...(priority && /^\d+$/.test(priority) ? { priority: Number(priority) } : {}),
    };
    await new Promise<void>((resolve, reject) =>
      ch.sendToQueue(this.queue, bufferOf(data), options, (err) => (err ? reject(err) : resolve())),
    );
    return {};
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => {});
  }
}
