import { z } from 'zod';
import { int, port, size } from '../config/values.js';
import { JsonRecordReader, SeparatorSplitter, type SplitResult } from '../parsers/split.js';
import type { InputPlugin } from '../plugin.js';
import { nowNs, type CollectorRecord } from '../types.js';
import { addressOf, closeServer, listen, pumpSocket, trackedServer } from './net.js';
import { applyNetKeys, streamNetKeys, withAcceptTimeout } from './net-keys.js';
import { serverTlsOptions, tlsKeys } from './tls.js';

const schema = z.strictObject({
  listen: z.string().default('0.0.0.0'),
  port: port.default(5170),
  /** With a `parser`, none (json is switched to none with a warning, as fluent-bit does). */
  format: z.enum(['json', 'none']).default('json'),
  /** A parser from the config's parsers (or a built-in one) applied to each line; implies format none. */
  parser: z.string().optional(),
  separator: z.string().default('\n'),
  /** In KB when a bare number, as in fluent-bit. */
  chunk_size: size(1024).default(32 * 1024),
  buffer_size: size(1024).optional(),
  source_address_key: z.string().optional(),
  workers: int(1)
    .pipe(
      z.literal(1, {
        error:
          'workers above 1 cannot be honoured: the input accepts and reads connections on one event loop; run several inputs on their own ports instead',
      }),
    )
    .optional(),
  ...tlsKeys,
  ...streamNetKeys,
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
    if (o.parser && o.format === 'json')
      ctx.log.warn(
        { input: 'tcp', parser: o.parser },
        'parser needs format none: reading lines, as fluent-bit does',
      );
    const format = o.format === 'none' || ctx.parse ? 'none' : 'json';
    const separator = o.separator.replace(/\\n/g, '\n').replace(/\\r/g, '\r').replace(/\\t/g, '\t');
    const tls = withAcceptTimeout(serverTlsOptions(o, 'tcp'), o);
    const { server, sockets } = trackedServer((s) => {
      const source = o.source_address_key ? `tcp://${s.remoteAddress}:${s.remotePort}` : undefined;
      const deliver = (
        bodies: Array<Record<string, unknown>>,
        rejected: SplitResult['rejected'],
        bytes: number,
        times?: Array<bigint | undefined>,
      ) => {
        for (const x of rejected) ctx.reject(x.reason, { bytes: x.bytes, limit: max });
        if (!bodies.length) return undefined;
        const time = nowNs();
        const records: CollectorRecord[] = new Array(bodies.length);
        for (let i = 0; i < bodies.length; i++) {
          const body = bodies[i]!;
          if (source) body[o.source_address_key!] = source;
          records[i] = { time: times?.[i] ?? time, tag: ctx.tag, body };
        }
        return ctx.emit(records, bytes);
      };
      if (format === 'json') {
        const reader = new JsonRecordReader(max);
        pumpSocket(
          s,
          (chunk) => {
            const r = reader.push(chunk);
            for (const e of r.invalid) ctx.reject('invalid_json', { error: e });
            return deliver(r.bodies, r.rejected, chunk.length);
          },
          () => {
            const r = reader.end();
            for (const e of r.invalid) ctx.reject('invalid_json', { error: e });
            if (reader.pending()) ctx.reject('truncated', { bytes: reader.pending() });
            return deliver(r.bodies, r.rejected, 0);
          },
        );
        return;
      }
      const splitter = new SeparatorSplitter(separator, max);
      const parse = ctx.parse;
      // Each line is {log}; with a parser, what the parser reads (and its time), a line it cannot read staying {log}.
      const lines = (frames: Buffer[], rejected: SplitResult['rejected'], bytes: number) => {
        if (!parse)
          return deliver(
            frames.map((f) => ({ log: f.toString('utf8') })),
            rejected,
            bytes,
          );
        const bodies: Array<Record<string, unknown>> = [];
        const times: Array<bigint | undefined> = [];
        for (const f of frames) {
          const line = f.toString('utf8');
          const r = parse(line);
          bodies.push(r?.body ?? { log: line });
          times.push(r?.time);
        }
        return deliver(bodies, rejected, bytes, times);
      };
      pumpSocket(
        s,
        (chunk) => {
          const r = splitter.push(chunk);
          return lines(r.frames, r.rejected, chunk.length);
        },
        () => {
          const last = splitter.end();
          if (last) return lines([last], [], last.length);
        },
      );
    }, tls);
    const backlog = applyNetKeys(server, o, ctx.log, 'tcp');
    return {
      start: () => listen(server, 'tcp.port', { port: o.port, host: o.listen }, backlog),
      close: () => closeServer(server, sockets),
      address: () => addressOf(server),
    };
  },
};
