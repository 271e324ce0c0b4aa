import type { Redis } from 'ioredis';
import type { BindingResponse, ComponentConfig, MessageMetadata, OutputBindingEngine } from '../broker.js';
import { Metadata } from './metadata.js';
import { OutputBinding, bufferOf } from './output.js';
import { REDIS_CONNECTION_KEYS, REDIS_REFUSED, connectRedis, redisOptions } from './redis-connection.js';

/**
 * Dapr's `bindings.redis` output: `create` SETs request metadata `key` to the data (with
 * `ttlInSeconds` as EX), `get` returns the value (no data when missing), `delete` removes the key.
 */
export class RedisBinding extends OutputBinding implements OutputBindingEngine {
  readonly type = 'bindings.redis';
  readonly operations = ['create', 'get', 'delete'] as const;

  private constructor(
    config: ComponentConfig,
    private readonly client: Redis,
  ) {
    super(config);
  }

  static async open(config: ComponentConfig): Promise<RedisBinding> {
    const md = new Metadata(config, [...REDIS_CONNECTION_KEYS, 'direction'], REDIS_REFUSED);
    md.oneOf('direction', ['output'], 'output');
    return new RedisBinding(
      config,
      await connectRedis(redisOptions(md, `sprout-${config.name}`), config.name),
    );
  }

  protected async run(
    operation: string,
    data: Uint8Array,
    metadata: MessageMetadata,
  ): Promise<BindingResponse> {
    const key = this.need(metadata, 'key', operation);
    if (operation === 'create') {
      const ttl = metadata.ttlInSeconds;
      if (ttl !== undefined && !/^\d+$/.test(ttl))
        throw this.failed(operation, `metadata "ttlInSeconds" must be whole seconds (got "${ttl}")`);
      if (ttl && Number(ttl) > 0) await this.client.set(key, bufferOf(data), 'EX', Number(ttl));
      else await this.client.set(key, bufferOf(data));
      return {};
    }
    if (operation === 'get') {
      const value = await this.client.getBuffer(key);
      return value === null ? {} : { data: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) };
    }
    await this.client.del(key);
    return {};
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
