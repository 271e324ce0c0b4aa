/**
 * Follows one emit through every batch it landed in. It settles once each of those batches was
 * delivered or given up on; `ok` is false if any was given up on.
 */
export class Tracker {
  private remaining = 0;
  private sealed = false;
  ok = true;

  constructor(private readonly onDone: (ok: boolean) => void) {}

  /** Called once per batch the records were added to. */
  hold(): void {
    this.remaining++;
  }

  release(ok: boolean): void {
    if (!ok) this.ok = false;
    this.remaining--;
    this.check();
  }

  /** Routing finished: no more holds will come. */
  seal(): void {
    this.sealed = true;
    this.check();
  }

  private check(): void {
    if (this.sealed && this.remaining === 0) {
      this.sealed = false;
      this.onDone(this.ok);
    }
  }
}
