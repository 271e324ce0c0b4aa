import { afterAll, expect, it } from 'vitest';
import { createTestContext, testServer } from '@sprout/framework/testing';
import { handler } from './index.js';

// The `results` output as function.yaml declares it; the testing helpers keep what is sent in memory.
const context = {
  name: '__NAME__',
  outputs: { results: { componentName: 'results', componentType: 'bindings.http', operation: 'create' } },
};

// The function served on a free port, as `sprout run` serves it.
const server = await testServer({ fn: handler, signatureType: 'openfunction', context });
afterAll(() => server.close());

it('sends the result of each event to the results output', async () => {
  const res = await server.fetch('/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'o1', total: 3 }),
  });
  expect(res.status).toBe(202);
  expect(await res.json()).toEqual({ accepted: 'o1', delivered: true });
  expect(server.outputs.results.sent.map((s) => s.data)).toEqual([
    { id: 'o1', total: 3, handledBy: '__NAME__' },
  ]);
});

it('says why when the output does not take the result', async () => {
  const { ctx, outputs } = await createTestContext(context);
  outputs.results.fail = new Error('connection refused');
  const answer = await handler(ctx, { id: 'o2' });
  expect(answer.code).toBe(202);
  expect(answer.body).toMatchObject({ accepted: 'o2', delivered: false });
  expect(answer.body.reason).toContain('connection refused');
});
