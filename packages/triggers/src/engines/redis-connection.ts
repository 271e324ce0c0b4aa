import { Redis, type RedisOptions } from 'ioredis';
import { TriggersError } from '../errors.js';
import type { Metadata } from './metadata.js';

/** Dapr's Redis connection keys Sprout honours (pubsub.redis and bindings.redis share them). */
export const REDIS_CONNECTION_KEYS = [
  'redisHost',
  'redisUsername',
  'redisPassword',
  'redisDB',
  'enableTLS',
  'dialTimeout',
  'redisMaxRetries',
  // go-redis pool tuning: accepted, no effect on Node's single multiplexed connection (README).
  'redisType',
  'redisMinRetryInterval',
  'redisMaxRetryInterval',
  'readTimeout',
  'writeTimeout',
  'poolSize',
  'poolTimeout',
  'maxConnAge',
  'minIdleConns',
  'idleCheckFrequency',
  'idleTimeout',
] as const;

/** Documented Redis keys Sprout cannot run locally, with the values that are still fine. */
export const REDIS_REFUSED: Readonly<Record<string, readonly string[]>> = {
  redisType: ['node'],
  failover: ['false'],
  sentinelMasterName: [],
  sentinelUsername: [],
  sentinelPassword: [],
  clientCert: [],
  clientKey: [],
  useEntraID: ['false'],
};

/** ioredis options from a component's metadata; `name` shows in CLIENT LIST. */
export function redisOptions(md: Metadata, name: string): RedisOptions {
  const hostPort = md.required('redisHost');
  const m = /^\[?([^\]\s]+?)\]?(?::(\d{1,5}))?$/.exec(hostPort.trim());
  if (!m) throw md.invalid('redisHost', `must be host:port (got "${hostPort}")`);
  const opts: RedisOptions = {
    host: m[1]!,
    port: Number(m[2] ?? 6379),
    db: md.int('redisDB', 0),
    connectTimeout: md.duration('dialTimeout', 5000),
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: md.int('redisMaxRetries', 0),
    retryStrategy: (times) => Math.min(times * 100, 2000),
  };
  const username = md.string('redisUsername');
  const password = md.string('redisPassword');
  if (username) opts.username = username;
  if (password) opts.password = password;
  if (md.bool('enableTLS', false)) opts.tls = {};
  return opts;
}

/** A connected client, or SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE naming the component. */
export async function connectRedis(opts: RedisOptions, component: string): Promise<Redis> {
  const redis = new Redis({ ...opts, lazyConnect: true });
  redis.on('error', () => undefined); // surfaced per command and through onError
  try {
    await redis.connect();
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new TriggersError(
      'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE',
      `component "${component}": Redis at ${opts.host}:${opts.port} cannot be reached: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
