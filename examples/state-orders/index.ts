// @sprout/state used on its own: load components, open the named stores, and use them the way a
// function uses ctx.state: typed reads, optimistic concurrency with etags, TTL, transactions,
// queries, a second store by name. (function.ts is a function using the same stores via ctx.state.)
//
//   npx tsx examples/state-orders/index.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StateStores, isStateError, loadComponents } from '@sprout/state';
import type { Order } from './function.js';

const dataDir = mkdtempSync(join(tmpdir(), 'sprout-example-'));
const components = loadComponents(fileURLToPath(new URL('./components', import.meta.url)), {
  appId: 'orders',
});
const stores = await StateStores.open(components, { appId: 'orders', dataDir });

// Typed get and save on a store chosen by name.
const orders = stores.get('orders');
await orders.save([
  { key: 'o1', value: { id: 'o1', total: 30, status: 'open', customer: { city: 'Oslo' } } satisfies Order },
  { key: 'o2', value: { id: 'o2', total: 12, status: 'open', customer: { city: 'Rome' } } satisfies Order },
]);
const o1 = await orders.get<Order>('o1');
console.log('o1 total', o1?.value.total, 'etag', o1?.etag);

// Optimistic concurrency: the second writer with the same etag loses with a typed conflict.
await orders.save({ key: 'o1', value: { ...o1!.value, status: 'paid' }, etag: o1!.etag });
try {
  await orders.save({ key: 'o1', value: { ...o1!.value, total: 0 }, etag: o1!.etag });
} catch (err) {
  if (isStateError(err, 'SPROUT_ERR_STATE_ETAG_MISMATCH')) console.log('conflict:', err.message);
  else throw err;
}

// A transaction: all or nothing.
await orders.transaction([
  {
    operation: 'upsert',
    request: { key: 'o3', value: { id: 'o3', total: 50, status: 'open', customer: { city: 'Oslo' } } },
  },
  { operation: 'delete', request: { key: 'o2' } },
]);

// Query: Dapr's filter language on dot-paths, sorted and paged.
const page = await orders.query<Order>({
  filter: { AND: [{ EQ: { 'customer.city': 'Oslo' } }, { GTE: { total: 20 } }] },
  sort: [{ key: 'total', order: 'DESC' }],
  page: { limit: 10 },
});
console.log('Oslo orders ≥ 20:', page.results.map((r) => `${r.key}=${r.value.total}`).join(', '));

// A second named store, with a TTL.
await stores.get('audit').save({ key: 'last-login', value: 'ada', metadata: { ttlInSeconds: '60' } });
console.log('stores:', stores.names().join(', '));

await stores.close();
rmSync(dataDir, { recursive: true, force: true });
