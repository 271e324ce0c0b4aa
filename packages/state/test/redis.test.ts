import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../src/index.js';
import { describeConformance } from './conformance.js';
import { component, REDIS_HOST } from './helpers.js';

const appIds: string[] = [];
const admin = new Redis(`redis://${REDIS_HOST}`);
afterAll(async () => {
  for (const appId of appIds) {
    const keys = await admin.keys(`${appId}||*`);
    if (keys.length) await admin.del(...keys);
  }
  await admin.quit();
});

describeConformance('redis', {
  etagOnMissingKey: 'accept',
  open: ({ appId, maxValueBytes }) => {
    appIds.push(appId);
    return openStateStore(component('cache', 'state.redis', { redisHost: REDIS_HOST }), {
      appId,
      dataDir: '.',
      ...(maxValueBytes ? { maxValueBytes } : {}),
    });
  },
});

describe('redis engine', () => {
  it('keeps items as Dapr does: a hash {data, version} under appid||key, with a Redis TTL (and its time in exp)', async () => {
    const appId = `redis-layout-${process.pid}`;
    appIds.push(appId);
    const store = await openStateStore(component('cache', 'state.redis', { redisHost: REDIS_HOST }), {
      appId,
      dataDir: '.',
    });
    const before = Date.now();
    await store.save({ key: 'k1', value: { a: 1 }, metadata: { ttlInSeconds: '100' } });
    const { exp, ...daprFields } = await admin.hgetall(`${appId}||k1`);
    expect(daprFields).toEqual({ data: '{"a":1}', version: '1' });
    // The expiry time rides in the hash so a read is one HMGET; Dapr's reader ignores the field.
    expect(Number(exp)).toBeGreaterThanOrEqual(before + 100_000);
    expect(Number(exp)).toBeLessThanOrEqual(Date.now() + 100_000);
    const ttl = await admin.ttl(`${appId}||k1`);
    expect(ttl).toBeGreaterThan(90);
    expect(ttl).toBeLessThanOrEqual(100);
    await store.save({ key: 'k1', value: { a: 2 } });
    expect(await admin.ttl(`${appId}||k1`)).toBe(-1);
    expect(await admin.hgetall(`${appId}||k1`)).toEqual({ data: '{"a":2}', version: '2' });
    expect((await store.get('k1'))?.etag).toBe('2');
    await store.close();
  });

  it('applies the name and none key prefix strategies', async () => {
    const name = `redis-prefix-${process.pid}`;
    appIds.push(name);
    const byName = await openStateStore(
      component(name, 'state.redis', { redisHost: REDIS_HOST, keyPrefix: 'name' }),
      {
        appId: 'ignored',
        dataDir: '.',
      },
    );
    await byName.save({ key: 'n1', value: 1 });
    expect(await admin.hget(`${name}||n1`, 'data')).toBe('1');
    await byName.close();
    const bare = `redis-none-${process.pid}`;
    const none = await openStateStore(
      component('plain', 'state.redis', { redisHost: REDIS_HOST, keyPrefix: 'none' }),
      {
        appId: 'ignored',
        dataDir: '.',
      },
    );
    await none.save({ key: bare, value: 'x' });
    expect(await admin.hget(bare, 'data')).toBe('"x"');
    await none.delete(bare);
    await none.close();
  });

  it('fails to open with ENGINE_UNAVAILABLE when nothing listens', async () => {
    await expect(
      openStateStore(component('down', 'state.redis', { redisHost: '127.0.0.1:1', dialTimeout: '500ms' }), {
        appId: 'a',
        dataDir: '.',
      }),
    ).rejects.toMatchObject({ code: 'SPROUT_ERR_STATE_ENGINE_UNAVAILABLE' });
  });
});
