// An OpenFunction async-style function: it takes an event and sends its result to the `results`
// output (function.yaml: serving.outputs and serving.bindings.results). Locally the event arrives
// over HTTP; on Kubernetes, once function.yaml has a Dapr input trigger, it arrives from a binding
// or a topic and the same code runs.
export async function handler(ctx, event) {
  const result = { id: event?.id ?? null, total: Number(event?.total ?? 0), handledBy: ctx.name };
  try {
    await ctx.send(result, 'results');
  } catch (err) {
    // Nothing takes the results yet (see README.md): keep the event and say why it went nowhere.
    console.warn(err.message);
    return { code: 202, body: { accepted: result.id, delivered: false, reason: err.message } };
  }
  return { code: 202, body: { accepted: result.id, delivered: true } };
}
