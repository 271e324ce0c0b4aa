// POST /checkout {"id": 1, "total": 3}: the order goes to the `orders` topic; the answer says so.
export async function checkout(ctx, order) {
  if (!order || !Number.isInteger(order.id)) throw new Error('an order needs an integer id');
  await ctx.send({ id: order.id, total: order.total ?? 0 }, 'orders');
  return { accepted: order.id };
}
