import type { OutputRunner } from './output-runner.js';

/** An emit waiting for room on disk: its chunk lines by output index, and its write. */
interface Waiting {
  lines: ReadonlyMap<number, Buffer>;
  run(): void;
}

/**
 * Where disk-buffered emits wait for room under each output's `storage.total_limit_size`. An emit is
 * written at once when every output it goes to has room for its lines and no earlier waiting emit
 * goes to one of them (so each output receives emits in order); otherwise it waits, and is written
 * in order as delivered chunks leave the disk. Nothing is dropped here: a waiting emit is an input
 * that has stopped reading (TCP) or was refused (HTTP, UDP) by its own choice.
 */
export class SpaceGate {
  private waiting: Waiting[] = [];

  constructor(private readonly runners: ReadonlyArray<{ runner: OutputRunner }>) {
    for (const r of runners) r.runner.onSpace = () => this.release();
  }

  /** True when an emit with these chunk lines (by output index) can be written now. */
  open(lines: ReadonlyMap<number, Buffer>): boolean {
    for (const w of this.waiting) for (const i of lines.keys()) if (w.lines.has(i)) return false;
    for (const [i, b] of lines) if (!this.runners[i]!.runner.fits(b.length)) return false;
    return true;
  }

  /** Queues an emit `open` refused; `run` writes it once there is room. */
  wait(lines: ReadonlyMap<number, Buffer>, run: () => void): void {
    this.waiting.push({ lines, run });
  }

  /** Writes, in order, the waiting emits that now fit (an output with an earlier one still waiting is skipped). */
  release(): void {
    const busy = new Set<number>();
    for (let k = 0; k < this.waiting.length;) {
      const w = this.waiting[k]!;
      let fits = true;
      for (const [i, b] of w.lines) if (busy.has(i) || !this.runners[i]!.runner.fits(b.length)) fits = false;
      if (!fits) {
        for (const i of w.lines.keys()) busy.add(i);
        k++;
        continue;
      }
      this.waiting.splice(k, 1);
      w.run();
    }
  }

  /** Writes every waiting emit whatever the limit (at close: nothing already read from a sender is lost). */
  flush(): void {
    for (const w of this.waiting.splice(0)) w.run();
  }
}
