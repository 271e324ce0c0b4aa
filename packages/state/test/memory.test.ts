import { describe, expect, it } from 'vitest';
import { MemoryStateStore, openStateStore } from '../src/index.js';
import { describeConformance, expectCode } from './conformance.js';
import { component } from './helpers.js';

describeConformance('in-memory', {
  open: ({ appId, maxValueBytes }) =>
    openStateStore(component('mem', 'state.in-memory'), {
      appId,
      dataDir: '.',
      ...(maxValueBytes ? { maxValueBytes } : {}),
    }),
});

describeConformance('MemoryStateStore class', {
  open: async ({ maxValueBytes }) => new MemoryStateStore('cache', maxValueBytes ? { maxValueBytes } : {}),
});

describe('MemoryStateStore', () => {
  it('keeps the first-cut API: get → {value, etag}, save one or many, delete with etag', async () => {
    const store = new MemoryStateStore();
    expect(store.name).toBe('in-memory');
    await store.save({ key: 'a', value: { n: 1 } });
    await store.save([{ key: 'b', value: 2 }]);
    const a = await store.get<{ n: number }>('a');
    expect(a?.value.n).toBe(1);
    await store.delete('a', { etag: a!.etag });
    expect(await store.get('a')).toBeUndefined();
    await store.close();
    await expectCode(store.get('b'), 'SPROUT_ERR_STATE_CLOSED');
  });
});
