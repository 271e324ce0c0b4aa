import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, rmSync } from 'node:fs';
import { z } from 'zod';
import { bool, many, port, size } from '../config/values.js';
import type { InputPlugin } from '../plugin.js';
import type { CollectorRecord } from '../types.js';
import type { ForwardError } from '../forward/codec.js';
import { MsgpackFramer } from '../forward/framer.js';
import { encodeHelo, encodePong, parsePing, passwordDigest, sharedKeyDigest } from '../forward/handshake.js';
import { decodeForward, encodeAck } from '../forward/message.js';
import { addressOf, closeServer, listen, pumpSocket, trackedServer } from './net.js';
import { applyNetKeys, streamNetKeys, withAcceptTimeout } from './net-keys.js';
import { serverTlsOptions, tlsKeys } from './tls.js';

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
    /** `user password` pairs (one or a list); needs shared_key or empty_shared_key. */
    'security.users': many.optional(),
    ...tlsKeys,
    ...streamNetKeys,
  })
  .refine((o) => !(o.tls && o.unix_path), {
    message: 'tls is for TCP connections; with unix_path the input listens on a unix socket',
    path: ['tls'],
  })
  .refine((o) => o['security.users'] === undefined || o.shared_key !== undefined || o.empty_shared_key, {
    message: 'security.users needs shared_key (or empty_shared_key: on)',
    path: ['security.users'],
  })
  .refine((o) => (o['security.users'] ?? []).every((u) => /^\S+\s+\S/.test(u.trim())), {
    message: "security.users entries are 'user password'",
    path: ['security.users'],
  })
  .refine((o) => o.buffer_chunk_size <= o.buffer_max_size, {
    message: 'buffer_chunk_size must not exceed buffer_max_size',
    path: ['buffer_chunk_size'],
  });

const sameHex = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** Decompressed CompressedPackedForward streams may be this many times buffer_max_size. */
const INFLATE_FACTOR = 10;

/**
 * `forward`: a Fluentd Forward Protocol v1 server (TCP or unix socket). Message, Forward,
 * PackedForward and CompressedPackedForward modes; EventTime (ext 0) or integer/float seconds; a
 * message with a `chunk` option is answered `{ack: chunk}` once the pipeline accepted its events
 * (with `ack: on`, once every output delivered them). A message over `buffer_max_size` is rejected
 * (`too_large`) and its connection closed; undecodable input is rejected (`decode`), closing the
 * connection only when the byte stream can no longer be framed. With `shared_key` (or
 * `empty_shared_key`) each connection starts with the HELO/PING/PONG handshake, checking
 * `security.users` too when given.
 */
export const forwardInput: InputPlugin<typeof schema> = {
  name: 'forward',
  schema,
  create(o, ctx) {
    const maxInflated = o.buffer_max_size * INFLATE_FACTOR;
    const secure = o.shared_key !== undefined || o.empty_shared_key;
    const key = o.shared_key ?? '';
    const users = new Map(
      (o['security.users'] ?? []).map((u) => {
        const [name, ...pw] = u.trim().split(/\s+/);
        return [name!, pw.join(' ')] as const;
      }),
    );
    /** Checks a PING against this connection's nonce; returns the failure reason or undefined. */
    const checkPing = (frame: Buffer, nonce: Buffer, authSalt: Buffer | undefined) => {
      const ping = parsePing(frame);
      if (!sameHex(ping.digest, sharedKeyDigest(ping.salt, ping.hostname, nonce, key))) {
        return { ping, reason: 'shared key mismatch' };
      }
      if (authSalt) {
        const pw = users.get(ping.username);
        if (pw === undefined || !sameHex(ping.passwordDigest, passwordDigest(authSalt, ping.username, pw))) {
          return { ping, reason: 'username/password mismatch' };
        }
      }
      return { ping, reason: undefined };
    };
    const tls = withAcceptTimeout(serverTlsOptions(o, 'forward'), o);
    const { server, sockets } = trackedServer((s) => {
      const framer = new MsgpackFramer(o.buffer_max_size);
      const peer = s.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : 'unix';
      // With a shared key the client must answer HELO with a valid PING before sending events.
      let authenticated = !secure;
      let finished = false;
      const nonce = randomBytes(16);
      const authSalt = users.size ? randomBytes(16) : undefined;
      if (secure) s.write(encodeHelo(nonce, authSalt));
      pumpSocket(
        s,
        async (chunk) => {
          if (finished) return;
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
            if (!authenticated) {
              let reason: string | undefined;
              let hostname = '';
              try {
                const r = checkPing(frame, nonce, authSalt);
                reason = r.reason;
                hostname = r.ping.hostname;
                if (!reason) {
                  const digest = sharedKeyDigest(r.ping.salt, o.self_hostname, nonce, key);
                  s.write(encodePong(true, '', o.self_hostname, digest));
                  authenticated = true;
                  continue;
                }
              } catch (err) {
                reason = (err as Error).message;
              }
              s.write(encodePong(false, reason, o.self_hostname, ''));
              ctx.reject('protocol', { peer, hostname, error: `handshake refused: ${reason}` });
              finished = true;
              s.end();
              return;
            }
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
    }, tls);
    const backlog = applyNetKeys(server, o, ctx.log, 'forward');
    return {
      async start() {
        if (o.unix_path) {
          rmSync(o.unix_path, { force: true });
          await listen(server, 'forward.unix_path', { path: o.unix_path }, backlog);
          chmodSync(o.unix_path, parseInt(o.unix_perm, 8));
        } else {
          await listen(server, 'forward.port', { port: o.port, host: o.listen }, backlog);
        }
      },
      close: () => closeServer(server, sockets),
      address: () => addressOf(server),
    };
  },
};
