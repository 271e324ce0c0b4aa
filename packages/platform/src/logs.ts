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

/**
 * Fans out every function instance's output lines to subscribers. With no subscriber a line costs
 * one branch; a subscriber that throws never breaks the instance.
 */
export class LogTap {
  private readonly listeners = new Set<(l: FunctionLogLine) => void>();

  get active(): boolean {
    return this.listeners.size > 0;
  }

  emit(line: FunctionLogLine): void {
    for (const l of this.listeners) {
      try {
        l(line);
      } catch {
        // A consumer's failure is its own; the instance keeps running and logging.
      }
    }
  }

  subscribe(listener: (l: FunctionLogLine) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
