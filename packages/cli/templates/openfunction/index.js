// An OpenFunction function: `(ctx, data)`, with the request body as `data` and the return value as
// the response. `ctx` carries what function.yaml declares (name, version, outputs, states).
export async function handler(ctx, data) {
  const name = typeof data?.name === 'string' ? data.name : 'world';
  return { greeting: `Hello, ${name}!`, function: ctx.name, version: ctx.version };
}
