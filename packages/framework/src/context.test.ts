import { describe, expect, it } from 'vitest';
import { parseFunctionContext } from './context.js';
import { FrameworkError } from './errors.js';
import { fuzzBytes, prng } from './fuzz.js';

const valid = {
  name: 'sample',
  version: 'v1',
  runtime: 'Async',
  port: '8080',
  inputs: { cron: { componentName: 'cron-in', componentType: 'bindings.cron', uri: 'cron-in' } },
  outputs: {
    out: { componentName: 'kafka', componentType: 'pubsub.kafka', uri: 'topic', metadata: { k: 'v' } },
  },
  states: { s: { componentName: 'redis', componentType: 'state.redis' } },
  prePlugins: ['a'],
  postPlugins: ['a'],
  pluginsTracing: { enabled: false, provider: { name: 'opentelemetry' }, tags: {}, baggage: {} },
  podName: 'extra fields pass through',
};

describe('FUNC_CONTEXT', () => {
  it('parses the OpenFunction shape, lower-cases the runtime and keeps unknown fields', async () => {
    const ctx = await parseFunctionContext(JSON.stringify(valid));
    expect(ctx.runtime).toBe('async');
    expect(ctx.outputs?.out?.metadata).toEqual({ k: 'v' });
    expect((ctx as Record<string, unknown>).podName).toBe('extra fields pass through');
  });

  it('accepts the base64 form', async () => {
    expect((await parseFunctionContext(Buffer.from(JSON.stringify(valid)).toString('base64'))).name).toBe(
      'sample',
    );
  });

  it.each([
    ['{"name":', 'FUNC_CONTEXT', /not valid JSON/],
    ['{"version":"v1"}', 'name', /name/],
    ['{"name":"x","runtime":"lambda"}', 'runtime', /runtime/],
    [
      '{"name":"x","outputs":{"o":{"componentName":"c","componentType":"queue.x"}}}',
      'outputs.o.componentType',
      /bindings/,
    ],
    [
      '{"name":"x","outputs":{"o":{"componentType":"bindings.http"}}}',
      'outputs.o.componentName',
      /componentName/,
    ],
    ['{"name":"x","prePlugins":"a"}', 'prePlugins', /prePlugins/],
    ['{"name":"x","port":"eighty"}', 'port', /port/],
    ['[]', '(root)', /root/],
  ])('refuses %s naming the field %s', async (input, field, message) => {
    let err: unknown;
    try {
      await parseFunctionContext(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FrameworkError);
    expect((err as FrameworkError).code).toBe('SPROUT_ERR_FRAMEWORK_INVALID_CONTEXT');
    expect((err as FrameworkError).field).toBe(field);
    expect((err as Error).message).toMatch(message);
  });

  it('answers every fuzzed input with a value or a coded error, never anything else', async () => {
    const seed = Date.now() & 0xffff;
    const rnd = prng(seed);
    const base = Buffer.from(JSON.stringify(valid));
    const deadline = Date.now() + 1500;
    let n = 0;
    while (n <= 500 || Date.now() < deadline) {
      const input = fuzzBytes(rnd, base).toString('utf8');
      try {
        const ctx = await parseFunctionContext(input);
        expect(typeof ctx.name, `seed ${seed}`).toBe('string');
      } catch (err) {
        expect(err, `seed ${seed} input ${JSON.stringify(input)}`).toBeInstanceOf(FrameworkError);
      }
      n++;
    }
    expect(n).toBeGreaterThan(500);
  });
});
