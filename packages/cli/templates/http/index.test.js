import { afterAll, expect, it } from 'vitest';
import { testServer } from '@sprout/framework/testing';
import { hello } from './index.js';

// The function served on a free port, as `sprout run` serves it.
const server = await testServer({ fn: hello, signatureType: 'http' });
afterAll(() => server.close());

it('greets by name', async () => {
  const res = await server.fetch('/?name=ada');
  expect(res.status).toBe(200);
  expect(await res.text()).toBe('Hello, ada!\n');
});

it('greets the world without a name', async () => {
  expect(await (await server.fetch('/')).text()).toBe('Hello, world!\n');
});
