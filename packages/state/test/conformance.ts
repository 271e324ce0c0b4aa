// The one conformance suite every engine runs (memory, sqlite, redis, postgresql, dapr sidecar).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStateError, type StateErrorCode, type StateStore } from '../src/index.js';

export interface StoreFactory {
  /** Opens a store whose keys are isolated by `appId`; `maxValueBytes` caps values. */
  open(options: { appId: string; maxValueBytes?: number }): Promise<StateStore>;
  /** What Dapr's store of this kind does with an etag on a missing key (default: a conflict). */
  etagOnMissingKey?: 'accept' | 'conflict';
  /** Removes whatever the suite left behind (tables, key prefixes, files). */
  cleanup?(): Promise<void>;
}

export async function expectCode(p: Promise<unknown>, code: StateErrorCode): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeDefined();
  expect(isStateError(err) ? err.code : err).toBe(code);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Order {
  id: string;
  total: number;
  customer: { name: string; tier: string };
  tags: string[];
}

export function describeConformance(engine: string, factory: StoreFactory): void {
  describe(`StateStore conformance: ${engine}`, () => {
    const run = `${engine}-${process.pid}-${Date.now().toString(36)}`;
    let store: StateStore;
    let queryStore: StateStore;
    let small: StateStore;

    beforeAll(async () => {
      store = await factory.open({ appId: `${run}-main` });
      queryStore = await factory.open({ appId: `${run}-query` });
      small = await factory.open({ appId: `${run}-small`, maxValueBytes: 1024 });
    });
    afterAll(async () => {
      await store?.close();
      await queryStore?.close();
      await small?.close();
      await factory.cleanup?.();
    });

    it('returns undefined for a missing key (never an empty string)', async () => {
      expect(await store.get('missing')).toBeUndefined();
    });

    it('saves and reads back typed values with an etag', async () => {
      const order: Order = {
        id: 'o1',
        total: 12.5,
        customer: { name: 'Zoë 東京', tier: 'gold' },
        tags: ['a', 'b'],
      };
      await store.save({ key: 'o1', value: order });
      const got = await store.get<Order>('o1');
      expect(got?.value).toEqual(order);
      expect(got?.value.customer.name).toBe('Zoë 東京');
      expect(typeof got?.etag).toBe('string');
      expect(got?.etag).not.toBe('');
    });

    it('round-trips every JSON type', async () => {
      const values: unknown[] = [
        'text',
        '',
        0,
        -1.5,
        true,
        false,
        null,
        [],
        [1, 'x', null],
        {},
        { a: { b: [1, { c: 'd' }] } },
      ];
      for (const [i, value] of values.entries()) await store.save({ key: `json-${i}`, value });
      for (const [i, value] of values.entries()) expect((await store.get(`json-${i}`))?.value).toEqual(value);
    });

    it('last write wins without an etag and changes the etag', async () => {
      await store.save({ key: 'lww', value: 1 });
      const a = await store.get('lww');
      await store.save({ key: 'lww', value: 2 });
      const b = await store.get('lww');
      expect(b?.value).toBe(2);
      expect(b?.etag).not.toBe(a?.etag);
    });

    it('a write with a matching etag succeeds; a stale etag is a conflict and changes nothing', async () => {
      await store.save({ key: 'cas', value: 'v1' });
      const first = await store.get('cas');
      await store.save({ key: 'cas', value: 'v2', etag: first!.etag });
      const second = await store.get('cas');
      expect(second?.value).toBe('v2');
      await expectCode(
        store.save({ key: 'cas', value: 'v3', etag: first!.etag }),
        'SPROUT_ERR_STATE_ETAG_MISMATCH',
      );
      expect((await store.get('cas'))?.value).toBe('v2');
    });

    if (factory.etagOnMissingKey === 'accept') {
      it('an etag on a missing key is accepted, as Dapr does on this store', async () => {
        await store.delete('never-saved', { etag: '7' });
        await store.save({ key: 'never-saved', value: 1, etag: '1234' });
        const entry = await store.get('never-saved');
        expect(entry).toEqual({ value: 1, etag: '1' });
        await expectCode(
          store.save({ key: 'never-saved', value: 2, etag: '1234' }),
          'SPROUT_ERR_STATE_ETAG_MISMATCH',
        );
        await store.delete('never-saved');
      });
    } else {
      it('an etag on a missing key is a conflict, as Dapr does on this store', async () => {
        await expectCode(
          store.save({ key: 'never-saved', value: 1, etag: '1' }),
          'SPROUT_ERR_STATE_ETAG_MISMATCH',
        );
        await expectCode(store.delete('never-saved', { etag: '1' }), 'SPROUT_ERR_STATE_ETAG_MISMATCH');
        expect(await store.get('never-saved')).toBeUndefined();
      });
    }

    it('first-write without an etag only creates', async () => {
      await store.save({ key: 'fw', value: 1, options: { concurrency: 'first-write' } });
      await expectCode(
        store.save({ key: 'fw', value: 2, options: { concurrency: 'first-write' } }),
        'SPROUT_ERR_STATE_ETAG_MISMATCH',
      );
      expect((await store.get('fw'))?.value).toBe(1);
    });

    it('of concurrent writes with the same etag exactly one wins', async () => {
      await store.save({ key: 'race', value: 0 });
      const { etag } = (await store.get('race'))!;
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => store.save({ key: 'race', value: i + 1, etag })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected')
          expect(isStateError(r.reason, 'SPROUT_ERR_STATE_ETAG_MISMATCH')).toBe(true);
    });

    it('deletes, with and without an etag', async () => {
      await store.save({ key: 'del', value: 1 });
      const { etag } = (await store.get('del'))!;
      await store.save({ key: 'del', value: 2 });
      await expectCode(store.delete('del', { etag }), 'SPROUT_ERR_STATE_ETAG_MISMATCH');
      expect((await store.get('del'))?.value).toBe(2);
      await store.delete('del', { etag: (await store.get('del'))!.etag });
      expect(await store.get('del')).toBeUndefined();
      await store.delete('del'); // deleting a missing key is fine
    });

    it('bulk get returns found, missing and invalid keys item by item', async () => {
      await store.save([
        { key: 'bg-1', value: 'one' },
        { key: 'bg-2', value: 'two' },
      ]);
      const items = await store.bulkGet(['bg-1', 'bg-none', 'bg-2', 'bad||key']);
      expect(items.map((i) => [i.key, i.value])).toEqual([
        ['bg-1', 'one'],
        ['bg-none', undefined],
        ['bg-2', 'two'],
        ['bad||key', undefined],
      ]);
      expect(items[0]!.etag).toBeTruthy();
      expect(items[1]!.etag).toBeUndefined();
      expect(items[3]!.error?.code).toBe('SPROUT_ERR_STATE_KEY_INVALID');
    });

    it('bulk save and bulk delete are per item, not atomic', async () => {
      await store.save({ key: 'bs-2', value: 'old' });
      const results = await store.bulkSave([
        { key: 'bs-1', value: 1 },
        { key: 'bs-2', value: 2, etag: '999999' },
        { key: 'bs-3', value: 3 },
      ]);
      expect(results.map((r) => r.error?.code)).toEqual([
        undefined,
        'SPROUT_ERR_STATE_ETAG_MISMATCH',
        undefined,
      ]);
      expect(results[1]!.key).toBe('bs-2');
      expect((await store.get('bs-1'))?.value).toBe(1);
      expect((await store.get('bs-2'))?.value).toBe('old');
      const dels = await store.bulkDelete([{ key: 'bs-1' }, { key: 'bs-3', etag: '999999' }]);
      expect(dels.map((r) => r.error?.code)).toEqual([undefined, 'SPROUT_ERR_STATE_ETAG_MISMATCH']);
      expect(await store.get('bs-1')).toBeUndefined();
      expect((await store.get('bs-3'))?.value).toBe(3);
    });

    it('a transaction applies upserts and deletes together', async () => {
      await store.save({ key: 'tx-gone', value: 'x' });
      await store.transaction([
        { operation: 'upsert', request: { key: 'tx-a', value: 'A' } },
        { operation: 'upsert', request: { key: 'tx-b', value: 'B' } },
        { operation: 'delete', request: { key: 'tx-gone' } },
      ]);
      expect((await store.get('tx-a'))?.value).toBe('A');
      expect((await store.get('tx-b'))?.value).toBe('B');
      expect(await store.get('tx-gone')).toBeUndefined();
    });

    it('a failing transaction leaves nothing visible', async () => {
      await store.save({ key: 'txf-keep', value: 'keep' });
      const stale = (await store.get('txf-keep'))!.etag;
      await store.save({ key: 'txf-keep', value: 'keep2' });
      await expectCode(
        store.transaction([
          { operation: 'upsert', request: { key: 'txf-new', value: 'new' } },
          { operation: 'delete', request: { key: 'tx-a' } },
          { operation: 'upsert', request: { key: 'txf-keep', value: 'lost', etag: stale } },
        ]),
        'SPROUT_ERR_STATE_ETAG_MISMATCH',
      );
      expect(await store.get('txf-new')).toBeUndefined();
      expect((await store.get('tx-a'))?.value).toBe('A');
      expect((await store.get('txf-keep'))?.value).toBe('keep2');
      await expectCode(
        store.transaction([
          { operation: 'upsert', request: { key: 'txf-new', value: 'new' } },
          { operation: 'upsert', request: { key: 'bad||key', value: 1 } },
        ]),
        'SPROUT_ERR_STATE_KEY_INVALID',
      );
      expect(await store.get('txf-new')).toBeUndefined();
    });

    it('readers never see half of a transaction', async () => {
      await store.save([
        { key: 'snap-a', value: 0 },
        { key: 'snap-b', value: 0 },
      ]);
      let done = false;
      const writer = (async () => {
        for (let i = 1; i <= 25; i++) {
          await store.transaction([
            { operation: 'upsert', request: { key: 'snap-a', value: i } },
            { operation: 'upsert', request: { key: 'snap-b', value: i } },
          ]);
        }
        done = true;
      })();
      let reads = 0;
      while (!done) {
        const [a, b] = await store.bulkGet<number>(['snap-a', 'snap-b']);
        expect(a!.value).toBe(b!.value);
        reads++;
        await new Promise((r) => setImmediate(r)); // let the writer's I/O run (SQLite commits on setImmediate)
      }
      await writer;
      expect(reads).toBeGreaterThan(0);
      expect((await store.get('snap-b'))?.value).toBe(25);
    });

    it('saving several items is all-or-nothing', async () => {
      await store.save({ key: 'many-2', value: 0 }); // a stale etag on a live item fails on every store
      await expectCode(
        store.save([
          { key: 'many-1', value: 1 },
          { key: 'many-2', value: 2, etag: '424242' },
        ]),
        'SPROUT_ERR_STATE_ETAG_MISMATCH',
      );
      expect(await store.get('many-1')).toBeUndefined();
      expect((await store.get('many-2'))?.value).toBe(0);
    });

    it('expires items after ttlInSeconds and keeps -1 forever', async () => {
      await store.save([
        { key: 'ttl-short', value: 1, metadata: { ttlInSeconds: '1' } },
        { key: 'ttl-forever', value: 2, metadata: { ttlInSeconds: '-1' } },
        { key: 'ttl-cleared', value: 3, metadata: { ttlInSeconds: '1' } },
      ]);
      await store.save({ key: 'ttl-cleared', value: 4 }); // a save without TTL removes the TTL
      expect((await store.get('ttl-short'))?.value).toBe(1);
      await sleep(1300);
      expect(await store.get('ttl-short')).toBeUndefined();
      expect((await store.bulkGet(['ttl-short']))[0]!.value).toBeUndefined();
      expect((await store.get('ttl-forever'))?.value).toBe(2);
      expect((await store.get('ttl-cleared'))?.value).toBe(4);
      // an expired item can be created again with first-write, and its old etag no longer matches
      await store.save({ key: 'ttl-short', value: 5, options: { concurrency: 'first-write' } });
      expect((await store.get('ttl-short'))?.value).toBe(5);
    });

    it('reports ttlExpireTime for items with a TTL, as Dapr does', async () => {
      const before = Date.now();
      await store.save([
        { key: 'ttl-report', value: 1, metadata: { ttlInSeconds: '100' } },
        { key: 'ttl-none', value: 2 },
      ]);
      const entry = await store.get('ttl-report');
      const at = Date.parse(entry!.metadata!.ttlExpireTime);
      expect(at).toBeGreaterThanOrEqual(before + 98_000);
      expect(at).toBeLessThanOrEqual(Date.now() + 101_000);
      expect((await store.get('ttl-none'))?.metadata).toBeUndefined();
      const [bulk] = await store.bulkGet(['ttl-report']);
      expect(Math.abs(Date.parse(bulk!.metadata!.ttlExpireTime) - at)).toBeLessThan(2000);
    });

    it('refuses bad keys, etags, TTLs, options and values with codes', async () => {
      await expectCode(store.save({ key: 'a||b', value: 1 }), 'SPROUT_ERR_STATE_KEY_INVALID');
      await expectCode(store.save({ key: '', value: 1 }), 'SPROUT_ERR_STATE_KEY_INVALID');
      await expectCode(store.get('a||b'), 'SPROUT_ERR_STATE_KEY_INVALID');
      await expectCode(
        store.save({ key: 'e', value: 1, etag: 'not-an-etag' }),
        'SPROUT_ERR_STATE_ETAG_INVALID',
      );
      await expectCode(store.delete('e', { etag: 'W/"x"' }), 'SPROUT_ERR_STATE_ETAG_INVALID');
      await expectCode(
        store.save({ key: 't', value: 1, metadata: { ttlInSeconds: 'soon' } }),
        'SPROUT_ERR_STATE_TTL_INVALID',
      );
      await expectCode(
        store.save({ key: 't', value: 1, metadata: { ttlInSeconds: '-5' } }),
        'SPROUT_ERR_STATE_TTL_INVALID',
      );
      await expectCode(
        store.save({ key: 'o', value: 1, options: { consistency: 'sometimes' as 'strong' } }),
        'SPROUT_ERR_STATE_OPTION_INVALID',
      );
      await store.save({
        key: 'strong',
        value: 1,
        options: { consistency: 'strong', concurrency: 'last-write' },
      });
      expect((await store.get('strong', { consistency: 'strong' }))?.value).toBe(1);
      expect((await store.get('strong', { consistency: 'eventual' }))?.value).toBe(1);
    });

    it('refuses values over the size limit and keeps what was stored', async () => {
      await small.save({ key: 'big', value: 'x'.repeat(100) });
      await expectCode(
        small.save({ key: 'big', value: 'x'.repeat(2000) }),
        'SPROUT_ERR_STATE_VALUE_TOO_LARGE',
      );
      expect((await small.get('big'))?.value).toBe('x'.repeat(100));
    });

    describe('query', () => {
      const people = [
        {
          key: 'p1',
          value: { name: 'ana', age: 31, city: 'Lisbon', team: { name: 'red', size: 3 }, active: true },
        },
        {
          key: 'p2',
          value: { name: 'bo', age: 25, city: 'Oslo', team: { name: 'blue', size: 5 }, active: false },
        },
        {
          key: 'p3',
          value: { name: 'cy', age: 40, city: 'Lisbon', team: { name: 'blue', size: 5 }, active: true },
        },
        {
          key: 'p4',
          value: { name: 'di', age: 25, city: 'Rome', team: { name: 'red', size: 3 }, active: true },
        },
        {
          key: 'p5',
          value: { name: 'ed', age: 58, city: 'Oslo', team: { name: 'green', size: 1 }, active: false },
        },
      ];
      beforeAll(async () => {
        await queryStore.save(people);
        await queryStore.save({
          key: 'p-expired',
          value: { name: 'zz', age: 99, city: 'Lisbon', team: { name: 'red', size: 0 } },
          metadata: { ttlInSeconds: '1' },
        });
        await sleep(1100);
      });
      const keys = async (q: Parameters<StateStore['query']>[0]) =>
        (await queryStore.query(q)).results.map((r) => r.key);

      it('filters with EQ, NEQ, IN and comparisons on dot-paths', async () => {
        expect((await keys({ filter: { EQ: { city: 'Lisbon' } } })).sort()).toEqual(['p1', 'p3']);
        expect((await keys({ filter: { EQ: { 'team.name': 'blue' } } })).sort()).toEqual(['p2', 'p3']);
        expect((await keys({ filter: { NEQ: { 'team.name': 'red' } } })).sort()).toEqual(['p2', 'p3', 'p5']);
        expect((await keys({ filter: { IN: { city: ['Rome', 'Oslo'] } } })).sort()).toEqual([
          'p2',
          'p4',
          'p5',
        ]);
        expect((await keys({ filter: { GT: { age: 31 } } })).sort()).toEqual(['p3', 'p5']);
        expect((await keys({ filter: { GTE: { age: 31 } } })).sort()).toEqual(['p1', 'p3', 'p5']);
        expect((await keys({ filter: { LT: { age: 31 } } })).sort()).toEqual(['p2', 'p4']);
        expect((await keys({ filter: { LTE: { 'team.size': 3 } } })).sort()).toEqual(['p1', 'p4', 'p5']);
        expect((await keys({ filter: { EQ: { active: false } } })).sort()).toEqual(['p2', 'p5']);
      });

      it('combines filters with AND and OR', async () => {
        const q = {
          filter: {
            OR: [
              { AND: [{ EQ: { city: 'Lisbon' } }, { GT: { age: 35 } }] },
              { EQ: { 'team.name': 'green' } },
            ],
          },
        };
        expect((await keys(q)).sort()).toEqual(['p3', 'p5']);
      });

      it('sorts, pages with a token, and returns etags', async () => {
        const q = { sort: [{ key: 'age', order: 'DESC' as const }, { key: 'name' }], page: { limit: 2 } };
        const first = await queryStore.query<{ name: string }>(q);
        expect(first.results.map((r) => r.key)).toEqual(['p5', 'p3']);
        expect(first.results[0]!.value.name).toBe('ed');
        expect(first.results[0]!.etag).toBeTruthy();
        expect(first.token).toBeTruthy();
        const second = await queryStore.query({ ...q, page: { limit: 2, token: first.token! } });
        expect(second.results.map((r) => r.key)).toEqual(['p1', 'p2']);
        const third = await queryStore.query({ ...q, page: { limit: 2, token: second.token! } });
        expect(third.results.map((r) => r.key)).toEqual(['p4']);
        expect(third.token).toBeUndefined();
        expect(await keys({ sort: [{ key: 'name' }] })).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']); // expired item never shows
      });

      it('matches nothing on a path no value has, and refuses to sort by one', async () => {
        expect(await keys({ filter: { EQ: { 'team.colour': 'red' } } })).toEqual([]);
        await expectCode(
          queryStore.query({ sort: [{ key: 'team.colour' }] }),
          'SPROUT_ERR_STATE_QUERY_PATH_MISSING',
        );
      });

      it('refuses malformed queries and tokens', async () => {
        await expectCode(
          queryStore.query({ filter: { LIKE: { name: 'a' } } as never }),
          'SPROUT_ERR_STATE_QUERY_INVALID',
        );
        await expectCode(
          queryStore.query({ filter: { EQ: { 'a..b': 1 } } }),
          'SPROUT_ERR_STATE_QUERY_INVALID',
        );
        await expectCode(queryStore.query({ filter: { AND: [] } }), 'SPROUT_ERR_STATE_QUERY_INVALID');
        await expectCode(
          queryStore.query({ page: { limit: 1, token: 'zzz' } }),
          'SPROUT_ERR_STATE_QUERY_INVALID',
        );
      });
    });
  });
}
