// One order from the `orders` topic: counted under order-<id> (a redelivered order counts twice).
// An order with "slowMs" takes that long (the fault tests kill the instance meanwhile).
export async function fulfil(ctx, order) {
  if (order.slowMs) await new Promise((r) => setTimeout(r, order.slowMs));
  const key = `order-${order.id}`;
  const seen = (await ctx.state.get(key))?.deliveries ?? 0;
  await ctx.state.save({ key, value: { id: order.id, total: order.total, deliveries: seen + 1 } });
  console.log(JSON.stringify({ level: 'info', msg: 'fulfilled', order: order.id }));
}
