import { describe, expect, it } from 'vitest';
import { LogTap, logLineView, type FunctionLogLine } from './logs.js';

const line = (fn: string, i: number): FunctionLogLine => ({
  time: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n,
  function: fn,
  namespace: 'default',
  instance: `${fn}-1`,
  stream: i % 2 ? 'stderr' : 'stdout',
  line: `line ${i}`,
});

describe('LogTap', () => {
  it('keeps the last lines per function, oldest first, across wrap-around', () => {
    const tap = new LogTap(5);
    for (let i = 0; i < 13; i++) tap.emit(line('a', i));
    tap.emit(line('b', 0));
    expect(tap.recent('a').map((l) => l.line)).toEqual(['line 8', 'line 9', 'line 10', 'line 11', 'line 12']);
    expect(tap.recent('a', 2).map((l) => l.line)).toEqual(['line 11', 'line 12']);
    expect(tap.recent('b')).toHaveLength(1);
    tap.forget('a');
    expect(tap.recent('a')).toEqual([]);
  });

  it('fans out to subscribers; a throwing one neither breaks the others nor the emitter', () => {
    const tap = new LogTap();
    const seen: string[] = [];
    tap.subscribe(() => {
      throw new Error('consumer bug');
    });
    const off = tap.subscribe((l) => seen.push(l.line));
    tap.emit(line('a', 1));
    off();
    tap.emit(line('a', 2));
    expect(seen).toEqual(['line 1']);
    expect(logLineView(line('a', 1))).toEqual({
      time: '2023-11-14T22:13:20.001Z',
      instance: 'a-1',
      stream: 'stderr',
      line: 'line 1',
    });
  });
});
