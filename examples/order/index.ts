// An OpenFunction-style function: typed state, an output, and the return value as the response.
//   npx sprout run examples/order --signature-type openfunction --resources-path examples/order/components \
//     --context "$(cat examples/order/context.json)"
//   curl localhost:8080 -H 'content-type: application/json' -d '{"id":"o1","total":3}'
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
