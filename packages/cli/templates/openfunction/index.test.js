import { afterAll, expect, it } from 'vitest';
import { createTestContext, testServer } from '@sprout/framework/testing';
import { handler } from './index.js';

// The function served on a free port with the context function.yaml gives it.
const server = await testServer({
  fn: handler,
  signatureType: 'openfunction',
  context: { name: '__NAME__', version: 'v1.0.0', runtime: 'knative' },
});
afterAll(() => server.close());

it('answers the JSON body it is given', async () => {
  const res = await server.fetch('/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'ada' }),
  });
  expect(await res.json()).toEqual({ greeting: 'Hello, ada!', function: '__NAME__', version: 'v1.0.0' });
});

it('can be called directly with a test context', async () => {
  const { ctx } = await createTestContext({ name: '__NAME__' });
  expect(await handler(ctx, {})).toMatchObject({ greeting: 'Hello, world!', function: '__NAME__' });
});
