/** The benchmark's TypeScript function: a short pause so concurrency builds up under load. */
export async function hello(req: { query: { ms?: string } }): Promise<string> {
  const ms = Number(req.query.ms ?? 0);
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  return 'Hello, world!\n';
}
