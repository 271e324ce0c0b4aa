import { chmodSync, rmSync } from 'node:fs';
import { z } from 'zod';
import { bool, port, size } from '../config/values.js';
import type { InputPlugin } from '../plugin.js';
import type { CollectorRecord } from '../types.js';
import type { ForwardError } from './forward-protocol.js';
import { decodeForward, encodeAck, MsgpackFramer } from './forward-protocol.js';
import { addressOf, closeServer, listen, pumpSocket, trackedServer } from './net.js';

const schema = z
  .strictObject({
    listen: z.string().default('0.0.0.0'),
    port: port.default(24224),
    unix_path: z.string().optional(),
    unix_perm: z.string().default('0644'),
    buffer_max_size: size().default(6_144_000),
    buffer_chunk_size: size().default(1_024_000),
    tag_prefix: z.string().default(''),
    shared_key: z.string().optional(),
    empty_shared_key: bool.default(false),
    self_hostname: z.string().default('localhost'),
    'security.users': z.string().optional(),
  })
  .refine((o) => o.shared_key === undefined && !o.empty_shared_key && o['security.users'] === undefined, {
    message:
      'shared_key / empty_shared_key / security.users (the HELO/PING/PONG handshake) are not supported; run without them on a trusted network',
    path: ['shared_key'],
  })
  .refine((o) => o.buffer_chunk_size <= o.buffer_max_size, {
    message: 'buffer_chunk_size must not exceed buffer_max_size',
    path: ['buffer_chunk_size'],
  });

/** Decompressed CompressedPackedForward streams may be this many times buffer_max_size. */
const INFLATE_FACTOR = 10;

/**
 * `forward`: a Fluentd Forward Protocol v1 server (TCP or unix socket). Message, Forward,
 * PackedForward and CompressedPackedForward modes; EventTime (ext 0) or integer/float seconds; a
 * message with a `chunk` option is answered `{ack: chunk}` once the pipeline accepted its events
 * (with `ack: on`, once every output delivered them). A message over `buffer_max_size` is rejected
 * (`too_large`) and its connection closed; undecodable input is rejected (`decode`), closing the
 * connection only when the byte stream can no longer be framed.
 */
export const forwardInput: InputPlugin<typeof schema> = {
  name: 'forward',
  schema,
  create(o, ctx) {
    const maxInflated = o.buffer_max_size * INFLATE_FACTOR;
    const { server, sockets } = trackedServer((s) => {
      const framer = new MsgpackFramer(o.buffer_max_size);
      const peer = s.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : 'unix';
      pumpSocket(
        s,
        async (chunk) => {
          let frames: Buffer[];
          try {
            frames = framer.push(chunk);
          } catch (err) {
            const e = err as ForwardError;
            ctx.reject(e.reason ?? 'decode', { peer, error: e.message });
            s.destroy();
            return;
          }
          for (const frame of frames) {
            let msg;
            try {
              msg = decodeForward(frame, maxInflated);
            } catch (err) {
              const e = err as ForwardError;
              ctx.reject(e.reason ?? 'decode', { peer, error: e.message, bytes: frame.length });
              continue;
            }
            const tag = ctx.tagSet ? ctx.tag : o.tag_prefix + msg.tag;
            const records: CollectorRecord[] = msg.events.map((e) => ({ time: e.time, tag, body: e.record }));
            try {
              if (records.length) await ctx.emit(records, frame.length);
            } catch (err) {
              // Not accepted (closing, or an output gave up under ack: on): no ack, the sender retries.
              ctx.log.warn(
                { peer, err: (err as Error).message },
                'forward: events not accepted, no ack sent',
              );
              continue;
            }
            if (msg.chunk !== undefined && !s.destroyed) s.write(encodeAck(msg.chunk));
          }
        },
        () => {
          if (framer.pending()) ctx.reject('truncated', { peer, bytes: framer.pending() });
        },
      );
    });
    return {
      async start() {
        if (o.unix_path) {
          rmSync(o.unix_path, { force: true });
          await listen(server, 'forward.unix_path', { path: o.unix_path });
          chmodSync(o.unix_path, parseInt(o.unix_perm, 8));
        } else {
          await listen(server, 'forward.port', { port: o.port, host: o.listen });
        }
      },
      close: () => closeServer(server, sockets),
      address: () => addressOf(server),
    };
  },
};
