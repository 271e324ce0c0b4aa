import { describe, expect, it } from 'vitest';
import { executionLogLine } from './execution-log.js';
import { fuzzBytes, prng } from './fuzz.js';

const LABELS = 'logging.googleapis.com/labels';

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
    expect(JSON.parse(executionLogLine(text, 'x', 'INFO', stderr))).toEqual(want);
  });

  it('fuzz: any text gives one JSON object line carrying the execution id', () => {
    const seed = Date.now() & 0xffff;
    const rnd = prng(seed);
    const base = Buffer.from(`{"message":"m","${LABELS}":{"a":"b"},"severity":"NOTICE"}`);
    const until = Date.now() + 300;
    for (let n = 0; Date.now() < until || n < 200; n++) {
      const text = fuzzBytes(rnd, base).toString('utf8');
      const line = executionLogLine(text, 'id', 'INFO', rnd() < 0.5);
      const parsed = JSON.parse(line) as Record<string, Record<string, unknown>>;
      expect(line.includes('\n'), `seed ${seed} case ${n}`).toBe(false);
      expect(parsed[LABELS]?.execution_id, `seed ${seed} case ${n}: ${JSON.stringify(text)}`).toBe('id');
    }
  });
});
