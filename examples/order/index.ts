// An OpenFunction-style function: typed state, an output, and the return value as the response.
// function.yaml declares it (target, signature, the orders-db store, the orders output):
//   npx sprout run examples/order                  (or: npx sprout dev examples/order)
//   curl localhost:8080 -H 'content-type: application/json' -d '{"id":"o1","total":3}'
// Flags win over function.yaml; these describe the same function (as the functions framework takes it):
//   npx sprout run examples/order --signature-type openfunction --resources-path examples/order/components \
//     --context "$(cat examples/order/context.json)"
import type { InvocationContext } from '@sprout/framework';

interface Order {
  id: string;
  total: number;
}

export async function order(
  ctx: InvocationContext,
  data: Order,
): Promise<{ accepted: string; seen: number }> {
  const seen = ((await ctx.state.get<number>(`seen-${data.id}`)) ?? 0) + 1;
  await ctx.state.save({ key: `seen-${data.id}`, value: seen });
  await ctx.send({ orderId: data.id, total: data.total }, 'orders');
  return { accepted: data.id, seen };
}
