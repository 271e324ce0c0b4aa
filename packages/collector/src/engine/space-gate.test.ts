import { describe, expect, it } from 'vitest';
import type { OutputRunner } from './output-runner.js';
import { SpaceGate } from './space-gate.js';

/** Two outputs whose room is set by hand (what `fits` of a runner reports). */
function outputs(room: number[]) {
  const runners = room.map((_, i) => ({
    runner: { fits: (n: number) => n <= room[i]!, onSpace: () => undefined } as unknown as OutputRunner,
  }));
  return { runners, room };
}
const lines = (entries: Array<[number, number]>) =>
  new Map(entries.map(([i, n]) => [i, Buffer.alloc(n)] as [number, Buffer]));

describe('SpaceGate', () => {
  it('lets an emit through while every output it goes to has room', () => {
    const { runners } = outputs([100, 100]);
    const gate = new SpaceGate(runners);
    expect(gate.open(lines([[0, 50]]))).toBe(true);
    expect(gate.open(lines([[0, 150]]))).toBe(false);
    expect(gate.open(lines([[1, 50]]))).toBe(true);
  });

  it('keeps waiting emits in order per output, and does not hold back another output', () => {
    const { runners, room } = outputs([0, 100]);
    const gate = new SpaceGate(runners);
    const written: string[] = [];
    const a = lines([[0, 10]]);
    expect(gate.open(a)).toBe(false);
    gate.wait(a, () => written.push('a'));
    // Output 0 has room again, but an earlier emit waits for it: a later one queues behind it.
    room[0] = 100;
    const b = lines([[0, 10]]);
    expect(gate.open(b)).toBe(false);
    gate.wait(b, () => written.push('b'));
    // Output 1 has no one waiting: through at once.
    expect(gate.open(lines([[1, 10]]))).toBe(true);
    runners[0]!.runner.onSpace(); // what a runner calls when a chunk left the disk
    expect(written).toEqual(['a', 'b']);
  });

  it('stops at the first emit that still does not fit; flush writes the rest regardless', () => {
    const { runners, room } = outputs([0, 0]);
    const gate = new SpaceGate(runners);
    const written: string[] = [];
    gate.wait(lines([[0, 50]]), () => written.push('big'));
    gate.wait(lines([[0, 10]]), () => written.push('small'));
    gate.wait(lines([[1, 10]]), () => written.push('other'));
    room[0] = 20;
    room[1] = 20;
    gate.release();
    expect(written).toEqual(['other']);
    gate.flush();
    expect(written).toEqual(['other', 'big', 'small']);
  });
});
