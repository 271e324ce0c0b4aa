import { afterAll, expect, it } from 'vitest';
import { testServer } from '@sprout/framework/testing';
import { visit } from './index.js';

// The function served on a free port; its `visits` store (function.yaml) is kept in memory.
const server = await testServer({
  fn: visit,
  signatureType: 'openfunction',
  context: {
    name: '__NAME__',
    states: { visits: { componentName: 'visits', componentType: 'state.sqlite' } },
  },
});
afterAll(() => server.close());

const post = (body) =>
  server.fetch('/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

it('counts visits per name in its state store', async () => {
  expect(await (await post({ name: 'ada' })).json()).toEqual({ name: 'ada', visits: 1 });
  expect(await (await post({ name: 'ada' })).json()).toEqual({ name: 'ada', visits: 2 });
  expect(await (await post({ name: 'bob' })).json()).toEqual({ name: 'bob', visits: 1 });
  expect((await server.state.visits.get('visits-ada'))?.value).toBe(2);
});
