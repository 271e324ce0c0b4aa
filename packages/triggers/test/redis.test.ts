import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { isTriggersError, openPubSub } from '../src/index.js';
import { describePubSubConformance, waitFor } from './conformance.js';

const NAME = `sprout-redis-conf-${process.pid}`;
const admin = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
afterAll(() => admin.quit());

const metadata = { redisHost: '127.0.0.1:6379', redeliverInterval: '300ms' };

describePubSubConformance('redis', {
  open: (timer) =>
    openPubSub({
      name: NAME,
      type: 'pubsub.redis',
      metadata: { ...metadata, processingTimeout: timer === 'short' ? '1s' : '10m' },
    }),
  countsAttempts: true,
  redeliversOnNack: true,
  redeliversAfterClose: true,
  async dropConnections() {
    const list = (await admin.call('CLIENT', 'LIST')) as string;
    const ids = list
      .split('\n')
      .filter((l) => l.includes(` name=sprout-${NAME} `))
      .map((l) => /\bid=(\d+)/.exec(l)![1]!);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
  },
  async cleanup(topics) {
    if (topics.length) await admin.del(...topics);
  },
});

describe('pubsub.redis metadata', () => {
  const open = (md: Record<string, string>) =>
    openPubSub({ name: 'bad', type: 'pubsub.redis', metadata: { redisHost: '127.0.0.1:6379', ...md } }).catch(
      (e: unknown) => e,
    );

  it('refuses what it cannot honour, naming the key', async () => {
    const err = await open({ failover: 'true', sentinelMasterName: 'm' });
    expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED')).toBe(true);
    expect((err as { field: string }).field).toBe('metadata.failover');
    const cluster = await open({ redisType: 'cluster' });
    expect(isTriggersError(cluster, 'SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED')).toBe(true);
    const unknown = await open({ redisHots: 'x' });
    expect((unknown as Error).message).toContain('redisHots');
  });

  it('refuses malformed values and a missing host', async () => {
    for (const md of [{ processingTimeout: 'soon' }, { maxLenApprox: '-1' }, { enableTLS: 'maybe' }]) {
      const err = await open(md);
      expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_METADATA_INVALID'), JSON.stringify(md)).toBe(true);
    }
    const err = await openPubSub({ name: 'x', type: 'pubsub.redis', metadata: {} }).catch((e: unknown) => e);
    expect((err as { field: string }).field).toBe('metadata.redisHost');
  });

  it('says the broker is unavailable when nothing listens', async () => {
    const err = await openPubSub({
      name: 'down',
      type: 'pubsub.redis',
      metadata: { redisHost: '127.0.0.1:1', dialTimeout: '500ms' },
    }).catch((e: unknown) => e);
    expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE')).toBe(true);
  });

  it('trims entries older than streamTTL', async () => {
    const topic = `${NAME}-ttl`;
    const e = await openPubSub({
      name: NAME,
      type: 'pubsub.redis',
      metadata: { redisHost: '127.0.0.1:6379', streamTTL: '1s' },
    });
    try {
      // Entries from an hour ago (Redis ids are milliseconds), then new ones. Trimming is approximate
      // (MINID ~, as Dapr's): Redis drops whole stream nodes (100 entries) that are all older.
      const old = Date.now() - 3_600_000;
      for (let i = 0; i < 200; i++) await admin.xadd(topic, `${old}-${i}`, 'data', 'old');
      for (let i = 0; i < 5; i++) await e.publish(topic, new TextEncoder().encode(`n${i}`));
      expect(await admin.xlen(topic)).toBeLessThan(205);
      const first = (await admin.xrange(topic, '-', '+', 'COUNT', 1)) as [string, string[]][];
      expect(Number(first[0]![0].split('-')[0])).toBeGreaterThan(old);
    } finally {
      await e.close();
      await admin.del(topic);
    }
  });

  it('keeps a stream near maxLenApprox and writes Dapr-shaped entries', async () => {
    const topic = `${NAME}-maxlen`;
    const e = await openPubSub({
      name: NAME,
      type: 'pubsub.redis',
      metadata: { redisHost: '127.0.0.1:6379', maxLenApprox: '10' },
    });
    try {
      for (let i = 0; i < 500; i++) await e.publish(topic, new TextEncoder().encode(`m${i}`), { k: 'v' });
      const len = await admin.xlen(topic);
      expect(len).toBeLessThan(500);
      const [[, fields]] = (await admin.xrevrange(topic, '+', '-', 'COUNT', 1)) as [string, string[]][];
      expect(fields).toEqual(['data', 'm499', 'metadata', '{"k":"v"}']);
      await waitFor(async () => (await admin.xlen(topic)) < 500, 'trim');
    } finally {
      await e.close();
      await admin.del(topic);
    }
  });
});
