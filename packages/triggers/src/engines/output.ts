import type { BindingResponse, ComponentConfig, MessageMetadata } from '../broker.js';
import { TriggersError } from '../errors.js';

/** What every output binding shares: its operation list and the refusal of any other operation. */
export abstract class OutputBinding {
  abstract readonly type: string;
  abstract readonly operations: readonly string[];

  constructor(readonly config: ComponentConfig) {}

  async invoke(
    operation: string,
    data: Uint8Array,
    metadata: MessageMetadata = {},
  ): Promise<BindingResponse> {
    const op = operation.toLowerCase();
    if (!this.operations.includes(op))
      throw new TriggersError(
        'SPROUT_ERR_TRIGGERS_OPERATION_UNSUPPORTED',
        `binding "${this.config.name}" (${this.type}) has no operation "${operation}"; it takes ${this.operations.join(', ')}`,
        { field: 'operation' },
      );
    try {
      return await this.run(op, data, metadata);
    } catch (err) {
      if (err instanceof TriggersError) throw err;
      throw this.failed(op, (err as Error).message, err);
    }
  }

  protected abstract run(
    operation: string,
    data: Uint8Array,
    metadata: MessageMetadata,
  ): Promise<BindingResponse>;

  abstract close(): Promise<void>;

  protected failed(operation: string, why: string, cause?: unknown): TriggersError {
    return new TriggersError(
      'SPROUT_ERR_TRIGGERS_BINDING_FAILED',
      `binding "${this.config.name}" (${this.type}) ${operation} failed: ${why}`,
      cause === undefined ? {} : { cause },
    );
  }

  /** A request metadata value that must be present. */
  protected need(metadata: MessageMetadata, key: string, operation: string): string {
    const v = metadata[key];
    if (v === undefined || v === '')
      throw new TriggersError(
        'SPROUT_ERR_TRIGGERS_METADATA_INVALID',
        `binding "${this.config.name}" (${this.type}) ${operation} needs metadata "${key}"`,
        { field: `metadata.${key}` },
      );
    return v;
  }
}

export const bytesOf = (s: string) => new TextEncoder().encode(s);
export const bufferOf = (d: Uint8Array) => Buffer.from(d.buffer, d.byteOffset, d.byteLength);
