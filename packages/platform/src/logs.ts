/** One line a function instance wrote, as the platform hands it to log consumers (the collector). */
export interface FunctionLogLine {
  /** Nanoseconds since the epoch, taken when the line was read. */
  time: bigint;
  function: string;
  namespace: string;
  instance: string;
  stream: 'stdout' | 'stderr';
  /** The line as written, without the newline. */
  line: string;
}

/** A held line as the API shows it. */
export interface LogLineView {
  time: string;
  instance: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

/** The last `capacity` lines of one function, oldest overwritten first. */
class Ring {
  private readonly items: FunctionLogLine[] = [];
  private next = 0;
  constructor(private readonly capacity: number) {}

  push(l: FunctionLogLine): void {
    if (this.items.length < this.capacity) this.items.push(l);
    else this.items[this.next] = l;
    this.next = (this.next + 1) % this.capacity;
  }

  last(n: number): FunctionLogLine[] {
    const ordered =
      this.items.length < this.capacity
        ? this.items
        : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
    return ordered.slice(Math.max(0, ordered.length - n));
  }
}

/**
 * Every function instance's output lines: keeps the last `capacity` per function (for
 * `GET /v1/functions/{name}/logs`) and fans each line out to subscribers (the collector, log
 * followers). A subscriber that throws never breaks the instance.
 */
export class LogTap {
  private readonly listeners = new Set<(l: FunctionLogLine) => void>();
  private readonly rings = new Map<string, Ring>();

  constructor(private readonly capacity = 1000) {}

  emit(line: FunctionLogLine): void {
    let ring = this.rings.get(line.function);
    if (!ring) this.rings.set(line.function, (ring = new Ring(this.capacity)));
    ring.push(line);
    for (const l of this.listeners) {
      try {
        l(line);
      } catch {
        // A consumer's failure is its own; the instance keeps running and logging.
      }
    }
  }

  /** The function's last `n` lines still held, oldest first. */
  recent(fn: string, n = this.capacity): FunctionLogLine[] {
    return this.rings.get(fn)?.last(n) ?? [];
  }

  /** Drops what is held for a function that was removed. */
  forget(fn: string): void {
    this.rings.delete(fn);
  }

  subscribe(listener: (l: FunctionLogLine) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export function logLineView(l: FunctionLogLine): LogLineView {
  return {
    time: new Date(Number(l.time / 1_000_000n)).toISOString(),
    instance: l.instance,
    stream: l.stream,
    line: l.line,
  };
}
