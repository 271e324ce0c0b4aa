// A cron tick: how many orders, numbered from 1, have been fulfilled; saved under `report`.
export async function report(ctx) {
  let fulfilled = 0;
  while (fulfilled < 10_000 && (await ctx.state.get(`order-${fulfilled + 1}`)) !== undefined) fulfilled++;
  await ctx.state.save({ key: 'report', value: { fulfilled, at: new Date().toISOString() } });
  console.log(JSON.stringify({ level: 'info', msg: 'report', fulfilled }));
}
