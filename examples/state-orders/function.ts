// The stores of this example used by a function, through ctx.state: function.yaml declares `orders`
// (SQLite, kept under the data dir) and `audit` (in memory), the same two stores components/ gives
// index.ts, which uses @sprout/state on its own.
//   npx sprout run examples/state-orders          (or: npx sprout dev examples/state-orders)
//   curl localhost:8080 -H 'content-type: application/json' \
//     -d '{"id":"o1","total":30,"status":"open","customer":{"city":"Oslo"}}'
import type { InvocationContext } from '@sprout/framework';

export interface Order {
  id: string;
  total: number;
  status: 'open' | 'paid';
  customer: { city: string };
}

/** Saves an order, notes it in the audit store for a minute, and answers the city's orders by total. */
export async function orders(ctx: InvocationContext, order: Partial<Order>) {
  if (typeof order?.id !== 'string' || typeof order.customer?.city !== 'string') {
    return { code: 400, body: { error: 'an order needs an id and a customer.city' } };
  }
  const store = ctx.state.store('orders');
  await store.save({ key: order.id, value: order });
  await ctx.state.save({ key: 'last-order', value: order.id, metadata: { ttlInSeconds: '60' } }, 'audit');
  const page = await store.query<Order>({
    filter: { EQ: { 'customer.city': order.customer.city } },
    sort: [{ key: 'total', order: 'DESC' }],
  });
  return {
    saved: order.id,
    city: order.customer.city,
    orders: page.results.map((r) => `${r.key}=${r.value.total}`),
    lastOrder: await ctx.state.get<string>('last-order', 'audit'),
  };
}
