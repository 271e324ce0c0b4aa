// An OpenFunction function with state: `ctx.state` is the `visits` store of function.yaml
// (serving.states), embedded SQLite under `sprout dev` and `sprout run` (in .sprout/state/), the
// Dapr state store of that name on Kubernetes.
export async function visit(ctx, data) {
  const name = typeof data?.name === 'string' ? data.name : 'world';
  const visits = ((await ctx.state.get(`visits-${name}`)) ?? 0) + 1;
  await ctx.state.save({ key: `visits-${name}`, value: visits });
  return { name, visits };
}
