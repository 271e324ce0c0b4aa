import { Redis, type RedisOptions } from 'ioredis';
import { etagMismatch, type RawItem, type StorageEngine, type WriteOp } from '../engine.js';

export interface RedisEngineOptions {
  /** `host:port`; default `127.0.0.1:6379`. */
  host?: string;
  username?: string;
  password?: string;
  db?: number;
  tls?: boolean;
  /** Connect timeout in ms; default 5000. */
  connectTimeoutMs?: number;
}

// Each item is a hash {data, version} as Dapr's Redis store keeps it, plus `exp` (expiry time,
// ms since the epoch) when it has a TTL, so a read is one HMGET. The script checks every
// condition first, then applies every write, so a transaction is all-or-nothing. Arguments are
// flat, five per operation: kind (s|d), value, etag ('' = none), insert-only (1|0), expiry time
// in ms since the epoch ('' = none). An etag on a missing key passes (set creates, delete is a
// no-op), as Dapr's Redis store does; PostgreSQL, SQLite and in-memory refuse it.
const WRITE_SCRIPT = `
local n = #KEYS
for i = 1, n do
  local b = (i - 1) * 5
  local cur = redis.call('HGET', KEYS[i], 'version')
  local etag = ARGV[b + 3]
  if etag ~= '' then
    if cur and cur ~= etag then return i end
  elseif ARGV[b + 4] == '1' and cur then
    return i
  end
end
for i = 1, n do
  local b = (i - 1) * 5
  if ARGV[b + 1] == 's' then
    redis.call('HINCRBY', KEYS[i], 'version', 1)
    redis.call('HSET', KEYS[i], 'data', ARGV[b + 2])
    if ARGV[b + 5] ~= '' then
      redis.call('HSET', KEYS[i], 'exp', ARGV[b + 5])
      redis.call('PEXPIREAT', KEYS[i], ARGV[b + 5])
    else
      redis.call('HDEL', KEYS[i], 'exp')
      redis.call('PERSIST', KEYS[i])
    end
  else
    redis.call('DEL', KEYS[i])
  end
end
return 0
`;

const READ_SCRIPT = `
local out = {}
for i = 1, #KEYS do
  local row = redis.call('HMGET', KEYS[i], 'data', 'version', 'exp')
  out[#out + 1] = row[1]
  out[#out + 1] = row[2]
  out[#out + 1] = row[3]
end
return out
`;

type SproutRedis = Redis & {
  sproutWrite(n: number, ...args: string[]): Promise<number>;
  sproutRead(n: number, ...keys: string[]): Promise<(string | number | null)[]>;
};

/** An HMGET row `[data, version, exp]` as a RawItem; undefined when the key is missing. */
function rawOf(row: (string | null)[]): RawItem | undefined {
  const [data, version, exp] = row;
  if (typeof data !== 'string' || typeof version !== 'string') return undefined;
  const raw: RawItem = { value: data, etag: version };
  if (typeof exp === 'string') raw.expiresAt = Number(exp);
  return raw;
}

/** Escapes glob characters for SCAN MATCH. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** The `state.redis` engine over ioredis. Commands fail at once while Redis is down (no offline queue). */
export class RedisEngine implements StorageEngine {
  readonly #redis: SproutRedis;

  constructor(options: RedisEngineOptions = {}) {
    const [host, port] = (options.host ?? '127.0.0.1:6379').split(':');
    const opts: RedisOptions = {
      host: host || '127.0.0.1',
      port: Number(port || 6379),
      db: options.db ?? 0,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: false,
      retryStrategy: (times) => Math.min(times * 100, 1000),
    };
    if (options.username) opts.username = options.username;
    if (options.password) opts.password = options.password;
    if (options.tls) opts.tls = {};
    this.#redis = new Redis(opts) as SproutRedis;
    this.#redis.on('error', () => undefined); // surfaced per command as ENGINE_UNAVAILABLE
    this.#redis.defineCommand('sproutWrite', { lua: WRITE_SCRIPT });
    this.#redis.defineCommand('sproutRead', { lua: READ_SCRIPT });
  }

  /** Resolves once connected (or rejects after the connect timeout). */
  async ready(): Promise<void> {
    if (this.#redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const onReady = () => {
        this.#redis.off('end', onEnd);
        resolve();
      };
      const onEnd = () => reject(new Error('redis connection closed'));
      this.#redis.once('ready', onReady);
      this.#redis.once('end', onEnd);
    });
  }

  /** One HMGET, no script and no intermediate arrays: the hot path of `ctx.state.get`. */
  getOne(key: string): Promise<RawItem | undefined> {
    return this.#redis.hmget(key, 'data', 'version', 'exp').then(rawOf);
  }

  async getMany(keys: string[]): Promise<(RawItem | undefined)[]> {
    // One key: one HMGET. Several keys: one script, so a bulk read is one snapshot (never half a
    // transaction).
    const flat =
      keys.length === 1
        ? await this.#redis.hmget(keys[0]!, 'data', 'version', 'exp')
        : await this.#redis.sproutRead(keys.length, ...keys);
    return keys.map((_, i) => rawOf(flat.slice(i * 3, i * 3 + 3) as (string | null)[]));
  }

  async write(ops: WriteOp[]): Promise<void> {
    const args: string[] = ops.map((o) => o.key);
    for (const op of ops) {
      if (op.op === 'set')
        args.push(
          's',
          op.value,
          op.etag ?? '',
          op.insertOnly ? '1' : '0',
          op.ttlMs === undefined ? '' : String(Date.now() + op.ttlMs),
        );
      else args.push('d', '', op.etag ?? '', '0', '');
    }
    const failed = await this.#redis.sproutWrite(ops.length, ...args);
    if (failed > 0) throw etagMismatch(ops[failed - 1]!.key);
  }

  async scan(prefix: string): Promise<(RawItem & { key: string })[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.#redis.scan(
        cursor,
        'MATCH',
        `${globEscape(prefix)}*`,
        'COUNT',
        500,
        'TYPE',
        'hash',
      );
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const unique = [...new Set(keys)];
    const items = await this.getMany(unique);
    const out: (RawItem & { key: string })[] = [];
    items.forEach((item, i) => item && out.push({ key: unique[i]!, ...item }));
    return out;
  }

  async purgeExpired(): Promise<number> {
    return 0; // Redis expires keys itself (PEXPIRE).
  }

  isUnavailable(err: unknown): boolean {
    const msg = err instanceof Error ? err.message : '';
    const code = (err as { code?: unknown })?.code;
    return (
      code === 'ECONNREFUSED' ||
      code === 'ECONNRESET' ||
      /Stream isn't writeable|Connection is closed|enableOfflineQueue|max retries|ETIMEDOUT|ECONNREFUSED|LOADING/i.test(
        msg,
      )
    );
  }

  async close(): Promise<void> {
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
  }
}
