import { z } from 'zod';
import { port, size } from '../config/values.js';
import { JsonObjectSplitter, SeparatorSplitter, type SplitResult } from '../parsers/split.js';
import type { InputPlugin } from '../plugin.js';
import { nowNs, type CollectorRecord } from '../types.js';
import { addressOf, closeServer, listen, pumpSocket, trackedServer } from './net.js';

const schema = z.strictObject({
  listen: z.string().default('0.0.0.0'),
  port: port.default(5170),
  format: z.enum(['json', 'none']).default('json'),
  separator: z.string().default('\n'),
  /** In KB when a bare number, as in fluent-bit. */
  chunk_size: size(1024).default(32 * 1024),
  buffer_size: size(1024).optional(),
  source_address_key: z.string().optional(),
});

/**
 * `tcp`: JSON objects (concatenated or one a line) or plain text split on `separator`; a message
 * longer than `buffer_size` (default: `chunk_size`) is rejected and counted.
 */
export const tcpInput: InputPlugin<typeof schema> = {
  name: 'tcp',
  schema,
  create(o, ctx) {
    const max = o.buffer_size ?? o.chunk_size;
    const separator = o.separator.replace(/\\n/g, '\n').replace(/\\r/g, '\r').replace(/\\t/g, '\t');
    const { server, sockets } = trackedServer((s) => {
      const splitter =
        o.format === 'json' ? new JsonObjectSplitter(max) : new SeparatorSplitter(separator, max);
      const source = o.source_address_key ? `tcp://${s.remoteAddress}:${s.remotePort}` : undefined;
      const deliver = (r: SplitResult, bytes: number) => {
        for (const x of r.rejected) ctx.reject(x.reason, { bytes: x.bytes, limit: max });
        const time = nowNs();
        const records: CollectorRecord[] = [];
        for (const f of r.frames) {
          let body: Record<string, unknown>;
          if (o.format === 'json') {
            try {
              body = JSON.parse(f.toString('utf8')) as Record<string, unknown>;
            } catch (err) {
              ctx.reject('invalid_json', { error: (err as Error).message });
              continue;
            }
          } else body = { log: f.toString('utf8') };
          if (source) body[o.source_address_key!] = source;
          records.push({ time, tag: ctx.tag, body });
        }
        return records.length ? ctx.emit(records, bytes) : undefined;
      };
      pumpSocket(
        s,
        (chunk) => deliver(splitter.push(chunk), chunk.length),
        () => {
          const last = splitter instanceof SeparatorSplitter ? splitter.end() : undefined;
          if (last) return deliver({ frames: [last], rejected: [] }, last.length);
          if (splitter.pending()) ctx.reject('truncated', { bytes: splitter.pending() });
        },
      );
    });
    return {
      start: () => listen(server, 'tcp.port', { port: o.port, host: o.listen }),
      close: () => closeServer(server, sockets),
      address: () => addressOf(server),
    };
  },
};
