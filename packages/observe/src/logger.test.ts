import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, type LoggerOptions } from './logger.js';
import { assertNoDuplicateKeys } from './testing.js';

/** A JSON logger and the records it wrote, each checked for repeated keys first. */
function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const log = createLogger({ name: 'sprout', format: 'json', destination, ...options });
  const records = () => lines.map((l) => assertNoDuplicateKeys(l) as Record<string, unknown>);
  return { log, lines, records };
}

describe('createLogger writes every key once', () => {
  it("lets a child's binding replace its parent's (component, function)", () => {
    const { log, lines, records } = capture();
    log.child({ component: 'collector' }).info('started');
    const instance = log.child({ function: 'greeter', instance: 'greeter-1' });
    instance.child({ function: 'hello' }).warn('renamed');
    instance.info('kept');
    expect(records()).toEqual([
      expect.objectContaining({ component: 'collector', msg: 'started' }),
      expect.objectContaining({
        component: 'sprout',
        function: 'hello',
        instance: 'greeter-1',
        level: 'warn',
      }),
      expect.objectContaining({
        component: 'sprout',
        function: 'greeter',
        instance: 'greeter-1',
        msg: 'kept',
      }),
    ]);
    // The replaced key keeps its place; the text pino wrote for the other values is untouched.
    expect(lines[0]).toMatch(/^\{"level":"info","time":"[^"]+","component":"collector","msg":"started"\}$/);
  });

  it("lets a call's fields replace the bindings, and keeps level, time and msg the logger's", () => {
    const { log, records } = capture();
    const fn = log.child({ function: 'greeter', stream: 'stderr' });
    fn.info({ function: 'hello', id: 7 }, 'relayed');
    fn.info({ msg: 'from the fields' });
    fn.error({ level: 'debug', time: 3, msg: 'shadowed' }, 'the message');
    fn.info('no fields');
    const [relayed, fieldsMsg, own, plain] = records();
    expect(relayed).toMatchObject({ component: 'sprout', function: 'hello', stream: 'stderr', id: 7 });
    expect(fieldsMsg).toMatchObject({ function: 'greeter', msg: 'from the fields' });
    expect(own).toMatchObject({ level: 'error', msg: 'the message' });
    expect(typeof own!.time).toBe('string');
    expect(plain).toMatchObject({ function: 'greeter', msg: 'no fields' });
  });

  it('merges bindings whose values hold JSON punctuation, and setBindings replaces too', () => {
    const { log, records } = capture({ base: { note: '"a":1,}' } });
    const child = log.child({ nested: { list: [1, { component: 'x' }], s: '\\"' }, note: '{,}' });
    child.child({ nested: 'flat' }).info('one');
    child.setBindings({ note: 'set', time: 'never' });
    child.info('two');
    expect(records()).toEqual([
      expect.objectContaining({ component: 'sprout', note: '{,}', nested: 'flat', msg: 'one' }),
      expect.objectContaining({ note: 'set', nested: { list: [1, { component: 'x' }], s: '\\"' } }),
    ]);
  });

  it('still filters by level and logs errors under err', () => {
    const { log, records } = capture({ level: 'warn' });
    log.info('dropped');
    log.child({ err: 'bound' }).error(new Error('boom'));
    expect(records()).toEqual([expect.objectContaining({ level: 'error', msg: 'boom' })]);
    expect((records()[0]!.err as { message: string }).message).toBe('boom');
  });
});
