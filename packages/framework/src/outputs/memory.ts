import type { ComponentRef } from '../context.js';
import type { Output } from './output.js';

/** Records every send; for tests. `fail` makes the next sends reject. */
export class MemoryOutput implements Output {
  readonly sent: { data: unknown; ref: ComponentRef }[] = [];
  fail: Error | undefined;
  constructor(readonly name: string) {}

  async send(data: unknown, ref: ComponentRef): Promise<unknown> {
    if (this.fail) throw this.fail;
    this.sent.push({ data: structuredClone(data), ref });
    return undefined;
  }

  async close(): Promise<void> {}
}
