import { afterAll, expect, it } from 'vitest';
import { testServer } from '@sprout/framework/testing';
import { hello, type Greeting } from './index.js';

// The function served on a free port, as `sprout run` serves it.
const server = await testServer({ fn: hello, signatureType: 'http' });
afterAll(() => server.close());

it('answers a JSON greeting', async () => {
  const res = await server.fetch('/?name=ada');
  expect(res.headers.get('content-type')).toContain('application/json');
  expect((await res.json()) as Greeting).toEqual({ message: 'Hello, ada!' });
});
