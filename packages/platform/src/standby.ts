import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The longest a taken standby's replacement waits for the cold start it serves. */
const REFILL_AFTER_MS = 1000;
const STANDBY_SCRIPT = fileURLToPath(new URL('../bin/standby.mjs', import.meta.url));

/**
 * Starts a process that loads Node and the functions framework (with `warm`, also runs requests
 * through a throwaway server), says so over IPC, and then runs the function it is sent.
 */
export function spawnStandby(env: NodeJS.ProcessEnv, warm = false): ChildProcess {
  return spawn(process.execPath, [STANDBY_SCRIPT, ...(warm ? ['--warm'] : [])], {
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Own process group: a Ctrl-C at the terminal reaches sprout dev, which drains instances itself.
    detached: true,
  });
}

/**
 * Keeps `size` pre-started instance processes (Node running, CLI and framework loaded) so that a
 * cold start only has to load the function. Each is handed out once; a new one starts in its place.
 */
export class StandbyPool {
  private readonly ready: ChildProcess[] = [];
  private readonly starting = new Set<ChildProcess>();
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.fill();
  }

  /**
   * A ready standby process (IPC open, waiting for its function), or undefined when none is ready.
   * Its replacement starts once the taken process has said it listens (its next message) or exited,
   * 1 s at most: a new Node process starting at the same moment would take CPU from the cold start
   * it serves.
   */
  take(): ChildProcess | undefined {
    const child = this.ready.shift();
    if (!child) {
      this.fill();
      return undefined;
    }
    const refill = () => {
      clearTimeout(timer);
      child.off('message', refill);
      child.off('exit', refill);
      this.fill();
    };
    const timer = setTimeout(refill, REFILL_AFTER_MS);
    timer.unref();
    child.once('message', refill);
    child.once('exit', refill);
    return child;
  }

  /** How many are ready to be handed out now. */
  readyCount(): number {
    return this.ready.length;
  }

  close(): void {
    this.closed = true;
    for (const c of [...this.ready, ...this.starting]) c.kill('SIGKILL');
    this.ready.length = 0;
    this.starting.clear();
  }

  private fill(): void {
    while (!this.closed && this.ready.length + this.starting.size < this.size) {
      const child = spawnStandby(this.env, true);
      this.starting.add(child);
      const forget = () => {
        this.starting.delete(child);
        const i = this.ready.indexOf(child);
        if (i >= 0) this.ready.splice(i, 1);
      };
      child.once('message', () => {
        if (!this.starting.delete(child)) return;
        this.ready.push(child);
      });
      // A standby that dies before use (or fails to load) is dropped; no restart loop.
      child.once('exit', forget);
      child.once('error', forget);
    }
  }
}
