import type { ComponentConfig, InputBindingEngine, OutputBindingEngine, PubSubEngine } from '../broker.js';
import { TriggersError } from '../errors.js';
import { CronBinding, type CronOptions } from './cron.js';
import { HttpBinding } from './http-binding.js';
import { InMemoryPubSub } from './in-memory.js';
import { Metadata, PUBSUB_SCOPES_REFUSED } from './metadata.js';
import { JetStreamPubSub } from './jetstream.js';
import { MqttBinding, MqttInputBinding } from './mqtt-binding.js';
import { MqttPubSub } from './mqtt.js';
import { PostgresBinding } from './postgres-binding.js';
import { RabbitBinding } from './rabbitmq-binding.js';
import { RabbitPubSub } from './rabbitmq.js';
import { RedisStreamsPubSub } from './redis.js';
import { RedisBinding } from './redis-binding.js';

type Factory<T> = (config: ComponentConfig) => Promise<T>;

/** Component types that run locally, by Dapr type name. */
const pubsubs: Record<string, Factory<PubSubEngine>> = {
  'pubsub.in-memory': async (c) => {
    new Metadata(c, ['consumerID'], PUBSUB_SCOPES_REFUSED); // Dapr's in-memory broker takes no metadata of its own
    return new InMemoryPubSub(c.name);
  },
  'pubsub.redis': (c) => RedisStreamsPubSub.open(c),
  'pubsub.jetstream': (c) => JetStreamPubSub.open(c),
  'pubsub.rabbitmq': (c) => RabbitPubSub.open(c),
  'pubsub.mqtt3': (c) => MqttPubSub.open(c),
};
const inputBindings: Record<
  string,
  (c: ComponentConfig, o: InputBindingOptions) => Promise<InputBindingEngine>
> = {
  'bindings.cron': async (c, o) => new CronBinding(c, o.cron),
  'bindings.mqtt3': (c) => MqttInputBinding.open(c),
};
const outputBindings: Record<string, Factory<OutputBindingEngine>> = {
  'bindings.http': async (c) => new HttpBinding(c),
  'bindings.redis': (c) => RedisBinding.open(c),
  'bindings.postgresql': (c) => new PostgresBinding(c).ready(),
  'bindings.mqtt3': (c) => MqttBinding.open(c),
  'bindings.rabbitmq': (c) => RabbitBinding.open(c),
};

/** Older names OpenFunction's samples still use. */
const ALIASES: Record<string, string> = {
  'pubsub.mqtt': 'pubsub.mqtt3',
  'bindings.mqtt': 'bindings.mqtt3',
};

/** The Dapr type a component's type names (aliases resolved, version suffix such as `/v1` dropped). */
export function canonicalType(type: string): string {
  const bare = type.trim().replace(/\/v\d+$/, '');
  return ALIASES[bare] ?? bare;
}

/** Every component type that has a local engine, sorted. */
export function localComponentTypes(): string[] {
  return [...Object.keys(pubsubs), ...Object.keys(inputBindings), ...Object.keys(outputBindings)].sort();
}

/** What an input binding engine may be given beside its component. */
export interface InputBindingOptions {
  /** `bindings.cron`: where it keeps its last fired tick between runs, and its logger. */
  cron?: CronOptions;
}

function open<T>(
  table: Record<string, (c: ComponentConfig, o: InputBindingOptions) => Promise<T>>,
  kind: string,
  config: ComponentConfig,
  options: InputBindingOptions = {},
): Promise<T> {
  const type = canonicalType(config.type);
  const factory = Object.hasOwn(table, type) ? table[type] : undefined;
  if (!factory)
    throw new TriggersError(
      'SPROUT_ERR_TRIGGERS_COMPONENT_UNSUPPORTED',
      `component "${config.name}": type "${config.type}" has no local ${kind} engine; ` +
        `the ${kind} types that run locally are ${Object.keys(table).sort().join(', ') || '(none yet)'}`,
      { field: 'spec.type' },
    );
  return factory({ ...config, type }, options);
}

/**
 * Opens the pub/sub engine for a Dapr component (`pubsub.redis`, `pubsub.jetstream`, ...).
 * A type with no local engine is SPROUT_ERR_TRIGGERS_COMPONENT_UNSUPPORTED naming those that run.
 *
 * @example
 * const bus = await openPubSub({ name: 'orders', type: 'pubsub.in-memory', metadata: {} });
 * await bus.publish('created', new TextEncoder().encode('{"id":1}'));
 */
export async function openPubSub(config: ComponentConfig): Promise<PubSubEngine> {
  return open(pubsubs, 'pub/sub', config);
}

/** Opens an input binding engine (`bindings.cron`, `bindings.mqtt3`). */
export async function openInputBinding(
  config: ComponentConfig,
  options: InputBindingOptions = {},
): Promise<InputBindingEngine> {
  return open(inputBindings, 'input binding', config, options);
}

/** Opens an output binding engine (`bindings.http`, `bindings.redis`, `bindings.postgresql`, ...). */
export async function openOutputBinding(config: ComponentConfig): Promise<OutputBindingEngine> {
  return open(outputBindings, 'output binding', config);
}
