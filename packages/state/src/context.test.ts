import { describe, expect, it } from 'vitest';
import { createStateContext } from './context.js';
import { MemoryStateStore } from './memory.js';
import { StateStores } from './open.js';

interface Order {
  total: number;
}

describe('ctx.state', () => {
  it('uses the first store by default and selects others by name (not always the first)', async () => {
    const ctx = createStateContext(
      new StateStores([new MemoryStateStore('orders'), new MemoryStateStore('audit')]),
    );
    expect(ctx.names()).toEqual(['orders', 'audit']);
    expect(ctx.name).toBe('orders');
    await ctx.save({ key: 'o1', value: { total: 3 } });
    await ctx.store('audit').save({ key: 'o1', value: { total: 99 } });
    const order = await ctx.get<Order>('o1');
    expect(order?.value.total).toBe(3);
    expect((await ctx.store('audit').get<Order>('o1'))?.value.total).toBe(99);
    expect(() => ctx.store('nope')).toThrow(
      expect.objectContaining({
        code: 'SPROUT_ERR_STATE_STORE_NOT_FOUND',
        message: expect.stringContaining('orders, audit'),
      }),
    );
    await ctx.close();
  });

  it('says how to add a store when there is none', async () => {
    const ctx = createStateContext(new StateStores([]));
    expect(() => ctx.get('k')).toThrow(/add a state component/);
  });
});
