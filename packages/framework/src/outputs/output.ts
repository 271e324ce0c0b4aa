import type { ComponentRef } from '../context.js';

/** A Dapr component's spec as a local engine needs it: its type and flattened metadata. */
export interface ComponentSpec {
  name: string;
  type: string;
  metadata: Record<string, string>;
}

/** One delivery target of `ctx.send`: a binding or a pub/sub topic. */
export interface Output {
  /** The output's name in the function context (the key under `outputs`). */
  readonly name: string;
  /** Delivers `data`; rejects when the target did not accept it. */
  send(data: unknown, ref: ComponentRef, headers: Record<string, string>): Promise<unknown>;
  close(): Promise<void>;
}
