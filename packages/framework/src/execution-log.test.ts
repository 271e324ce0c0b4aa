import { describe, expect, it } from 'vitest';
import { executionLogLine, installExecutionIdLogging, type ExecutionTags } from './execution-log.js';
import { fuzzBytes, prng } from './fuzz.js';

const LABELS = 'logging.googleapis.com/labels';
const SPAN = 'logging.googleapis.com/spanId';

describe('execution id log lines', () => {
  it.each([
    ['text', 'hello', false, { message: 'hello', severity: 'INFO', [LABELS]: { execution_id: 'x' } }],
    [
      'a JSON array is text',
      '[1]',
      false,
      { message: '[1]', severity: 'INFO', [LABELS]: { execution_id: 'x' } },
    ],
    [
      'JSON keeps its fields',
      '{"a":1,"severity":"DEBUG"}',
      true,
      { a: 1, severity: 'DEBUG', [LABELS]: { execution_id: 'x' } },
    ],
    [
      'JSON on stderr gets ERROR',
      '{"a":1}',
      true,
      { a: 1, severity: 'ERROR', [LABELS]: { execution_id: 'x' } },
    ],
    ['JSON on stdout gets no severity', '{"a":1}', false, { a: 1, [LABELS]: { execution_id: 'x' } }],
    [
      'a pino line on stderr takes its severity from level',
      '{"level":40,"msg":"m"}',
      true,
      { level: 40, msg: 'm', severity: 'WARNING', [LABELS]: { execution_id: 'x' } },
    ],
    [
      'a level name gives the severity too',
      '{"level":"debug"}',
      false,
      { level: 'debug', severity: 'DEBUG', [LABELS]: { execution_id: 'x' } },
    ],
    [
      'labels are merged, execution_id replaced',
      `{"${LABELS}":{"t":"a","execution_id":"old"}}`,
      false,
      { [LABELS]: { t: 'a', execution_id: 'x' } },
    ],
    [
      'colour codes are dropped before parsing',
      '\x1b[32m{"a":1}\x1b[39m',
      false,
      { a: 1, [LABELS]: { execution_id: 'x' } },
    ],
  ])('%s', (_name, text, stderr, want) => {
    expect(JSON.parse(executionLogLine(text, { executionId: 'x' }, 'INFO', stderr))).toEqual(want);
  });

  it.each([
    [
      'text gains the span id',
      'hi',
      { message: 'hi', severity: 'INFO', [LABELS]: { execution_id: 'x' }, [SPAN]: '7' },
    ],
    ['JSON gains the span id', '{"a":1}', { a: 1, [LABELS]: { execution_id: 'x' }, [SPAN]: '7' }],
    ['JSON keeps its own span id', `{"${SPAN}":"mine"}`, { [LABELS]: { execution_id: 'x' }, [SPAN]: 'mine' }],
  ])('%s', (_name, text, want) => {
    expect(JSON.parse(executionLogLine(text, { executionId: 'x', spanId: '7' }, 'INFO', false))).toEqual(
      want,
    );
  });

  it('fuzz: any text gives one JSON object line carrying the execution id', () => {
    const seed = Date.now() & 0xffff;
    const rnd = prng(seed);
    const base = Buffer.from(`{"message":"m","${LABELS}":{"a":"b"},"severity":"NOTICE"}`);
    const until = Date.now() + 300;
    for (let n = 0; Date.now() < until || n < 200; n++) {
      const text = fuzzBytes(rnd, base).toString('utf8');
      const line = executionLogLine(text, { executionId: 'id' }, 'INFO', rnd() < 0.5);
      const parsed = JSON.parse(line) as Record<string, Record<string, unknown>>;
      expect(line.includes('\n'), `seed ${seed} case ${n}`).toBe(false);
      expect(parsed[LABELS]?.execution_id, `seed ${seed} case ${n}: ${JSON.stringify(text)}`).toBe('id');
    }
  });

  it('rewrites raw stdout/stderr writes inside a request (strings, bytes, encodings, callbacks) and nothing outside', async () => {
    const written: string[] = [];
    const capture = (stream: NodeJS.WriteStream) => {
      const real = stream.write;
      stream.write = ((chunk: unknown, enc?: unknown, cb?: unknown) => {
        written.push(String(chunk));
        const done = typeof enc === 'function' ? enc : cb;
        if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
        return true;
      }) as NodeJS.WriteStream['write'];
      return () => (stream.write = real);
    };
    const release = [capture(process.stdout), capture(process.stderr)];
    let tags: ExecutionTags | undefined;
    const restore = installExecutionIdLogging(() => tags);
    try {
      process.stdout.write('outside\n');
      tags = { executionId: 'e1', spanId: '42' };
      process.stdout.write('text\n');
      process.stdout.write(Buffer.from('{"message":"bytes","severity":"DEBUG"}\n'));
      process.stdout.write('aGV4\n', 'base64');
      await new Promise<void>((resolve) => process.stderr.write('oops\n', () => resolve()));
      console.warn('careful %d', 3);
      process.stdout.write('');
    } finally {
      restore();
      for (const r of release) r();
    }
    expect(written[0]).toBe('outside\n');
    const lines = written.slice(1, 6).map((l) => JSON.parse(l) as Record<string, unknown>);
    const tagged = { [LABELS]: { execution_id: 'e1' }, [SPAN]: '42' };
    expect(lines).toEqual([
      { message: 'text', severity: 'INFO', ...tagged },
      { message: 'bytes', severity: 'DEBUG', ...tagged },
      { message: 'hex', severity: 'INFO', ...tagged },
      { message: 'oops', severity: 'ERROR', ...tagged },
      { message: 'careful 3', severity: 'WARNING', ...tagged },
    ]);
    expect(written.slice(6)).toEqual(['']);
  });
});
