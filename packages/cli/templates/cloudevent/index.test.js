import { afterAll, expect, it } from 'vitest';
import { testServer } from '@sprout/framework/testing';
import { onEvent } from './index.js';

// The function served on a free port, as `sprout run` serves it.
const server = await testServer({ fn: onEvent, signatureType: 'cloudevent' });
afterAll(() => server.close());

it('answers a binary-mode CloudEvent', async () => {
  const res = await server.fetch('/', {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0',
      'ce-id': 'e1',
      'ce-source': '/test',
      'ce-type': 'com.example.greet',
      'content-type': 'application/json',
    },
    body: JSON.stringify({ name: 'ada' }),
  });
  expect(await res.json()).toEqual({ id: 'e1', type: 'com.example.greet', greeting: 'Hello, ada!' });
});

it('answers a structured-mode CloudEvent', async () => {
  const res = await server.fetch('/', {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({
      specversion: '1.0',
      id: 'e2',
      source: '/test',
      type: 'com.example.greet',
      data: {},
    }),
  });
  expect(await res.json()).toEqual({ id: 'e2', type: 'com.example.greet', greeting: 'Hello, world!' });
});
