import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { decode } from '@msgpack/msgpack';
import { z } from 'zod';
import { bool, port } from '../config/values.js';
import { CollectorError } from '../errors.js';
import { EventTime, ForwardError } from '../forward/codec.js';
import { MsgpackFramer } from '../forward/framer.js';
import { encodePing, parseHelo, parsePong, passwordDigest, sharedKeyDigest } from '../forward/handshake.js';
import { encodeForward } from '../forward/message.js';
import type { OutputPlugin } from '../plugin.js';
import type { CollectorRecord } from '../types.js';

const schema = z
  .strictObject({
    host: z.string().default('127.0.0.1'),
    port: port.default(24224),
    unix_path: z.string().optional(),
    tag: z.string().optional(),
    time_as_integer: bool.default(false),
    send_options: bool.default(false),
    require_ack_response: bool.default(false),
    compress: z.enum(['gzip']).optional(),
    shared_key: z.string().optional(),
    empty_shared_key: bool.default(false),
    self_hostname: z.string().default('localhost'),
    username: z.string().optional(),
    password: z.string().optional(),
  })
  .refine(
    (o) =>
      (o.username === undefined && o.password === undefined) ||
      o.shared_key !== undefined ||
      o.empty_shared_key,
    {
      message: 'username and password need shared_key (or empty_shared_key: on)',
      path: ['username'],
    },
  )
  .refine((o) => (o.username === undefined) === (o.password === undefined), {
    message: 'username and password go together',
    path: ['password'],
  });

/** How long an unanswered `chunk` waits for its ack before the batch is failed and retried. */
const ACK_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;

type Options = z.output<typeof schema>;

/** A Forward Protocol v1 message for one tag: Forward mode, or CompressedPackedForward with gzip. */
export function forwardMessage(
  tag: string,
  records: CollectorRecord[],
  o: Options,
  chunk?: string,
): Uint8Array {
  const entry = (r: CollectorRecord) => [
    o.time_as_integer ? Number(r.time / 1_000_000_000n) : EventTime.fromNs(r.time),
    r.body,
  ];
  const options: Record<string, unknown> = {};
  if (o.send_options || chunk !== undefined || o.compress) options.size = records.length;
  if (chunk !== undefined) options.chunk = chunk;
  if (o.compress === 'gzip') {
    options.compressed = 'gzip';
    const stream = Buffer.concat(records.map((r) => encodeForward(entry(r))));
    return encodeForward([tag, gzipSync(stream), options]);
  }
  const message: unknown[] = [tag, records.map(entry)];
  if (Object.keys(options).length) message.push(options);
  return encodeForward(message);
}

const failed = (message: string, cause?: unknown) =>
  new CollectorError('SPROUT_ERR_COLLECTOR_OUTPUT_FAILED', message, undefined, { cause });

/**
 * `forward`: sends each batch over one kept-open TCP (or unix) connection as Forward Protocol v1
 * messages, one per tag. With `require_ack_response` each message carries a `chunk` id and the
 * batch succeeds only when every chunk was acknowledged; a lost connection, a refused connect or
 * a missing ack fails the batch, which the engine retries (`retry_limit`, backoff). With
 * `shared_key` (or `empty_shared_key`) each connection answers the server's HELO with a PING
 * (and `username`/`password` when the server asks) and checks the PONG's digest.
 */
export const forwardOutput: OutputPlugin<typeof schema> = {
  name: 'forward',
  schema,
  create(o, ctx) {
    interface Conn {
      socket: Socket;
      waiting: Map<string, { resolve: () => void; reject: (e: Error) => void }>;
    }
    let conn: Conn | undefined;
    let connecting: Promise<Conn> | undefined;
    const where = o.unix_path ?? `${o.host}:${o.port}`;

    const open = (): Promise<Conn> => {
      if (conn && !conn.socket.destroyed) return Promise.resolve(conn);
      connecting ??= new Promise<Conn>((resolve, reject) => {
        const s = o.unix_path ? connect(o.unix_path) : connect(o.port, o.host);
        const c: Conn = { socket: s, waiting: new Map() };
        const framer = new MsgpackFramer(64 * 1024);
        let connected = false;
        const secure = o.shared_key !== undefined || o.empty_shared_key;
        let stage: 'helo' | 'pong' | 'ready' = secure ? 'helo' : 'ready';
        let nonce: Uint8Array = new Uint8Array();
        const salt = randomBytes(16).toString('hex');
        const timer = setTimeout(() => s.destroy(new Error('connect timed out')), CONNECT_TIMEOUT_MS);
        let refused: string | undefined;
        const ready = () => {
          clearTimeout(timer);
          connected = true;
          conn = c;
          connecting = undefined;
          resolve(c);
        };
        s.once('connect', () => {
          s.setNoDelay(true);
          if (!secure) ready();
        });
        const handshake = (f: Buffer) => {
          if (stage === 'helo') {
            const helo = parseHelo(f);
            nonce = helo.nonce;
            const key = o.shared_key ?? '';
            s.write(
              encodePing({
                hostname: o.self_hostname,
                salt: Buffer.from(salt),
                digest: sharedKeyDigest(salt, o.self_hostname, nonce, key),
                username: o.username ?? '',
                passwordDigest:
                  o.username !== undefined && helo.authSalt.length
                    ? passwordDigest(helo.authSalt, o.username, o.password ?? '')
                    : '',
              }),
            );
            stage = 'pong';
            return;
          }
          const pong = parsePong(f);
          if (!pong.ok) throw new ForwardError('protocol', `handshake refused by ${where}: ${pong.reason}`);
          if (pong.digest !== sharedKeyDigest(salt, pong.hostname, nonce, o.shared_key ?? '')) {
            throw new ForwardError('protocol', `${where} answered with a different shared key`);
          }
          stage = 'ready';
          ready();
        };
        s.on('data', (chunk: Buffer) => {
          try {
            for (const f of framer.push(chunk)) {
              if (stage !== 'ready') {
                handshake(f);
                continue;
              }
              const m = decode(f) as { ack?: unknown } | null;
              const id = typeof m?.ack === 'string' ? m.ack : undefined;
              const w = id === undefined ? undefined : c.waiting.get(id);
              if (w) {
                c.waiting.delete(id!);
                w.resolve();
              }
            }
          } catch (err) {
            if (stage !== 'ready') refused = (err as Error).message;
            else
              ctx.log.warn(
                { err: (err as Error).message, peer: where },
                'forward: unreadable answer, reconnecting',
              );
            s.destroy();
          }
        });
        s.on('error', () => undefined);
        s.on('close', () => {
          clearTimeout(timer);
          if (conn === c) conn = undefined;
          if (!connected) {
            connecting = undefined;
            reject(failed(refused ?? `cannot connect to ${where}`));
          }
          for (const w of c.waiting.values())
            w.reject(failed(`connection to ${where} closed before the ack`));
          c.waiting.clear();
        });
      });
      return connecting;
    };

    const send = (s: Socket, buf: Uint8Array) =>
      new Promise<void>((resolve, reject) =>
        s.write(buf, (err) => (err ? reject(failed(`write to ${where}: ${err.message}`, err)) : resolve())),
      );

    return {
      async write(records) {
        const groups = new Map<string, CollectorRecord[]>();
        for (const r of records) {
          const tag = o.tag ?? r.tag;
          let g = groups.get(tag);
          if (!g) groups.set(tag, (g = []));
          g.push(r);
        }
        const c = await open();
        const s = c.socket;
        const acks: Array<Promise<void>> = [];
        try {
          for (const [tag, group] of groups) {
            const chunk = o.require_ack_response ? randomBytes(16).toString('base64') : undefined;
            if (chunk !== undefined) {
              acks.push(
                new Promise<void>((resolve, reject) => {
                  c.waiting.set(chunk, { resolve, reject });
                }),
              );
            }
            await send(s, forwardMessage(tag, group, o, chunk));
          }
          if (acks.length) {
            let timer: NodeJS.Timeout | undefined;
            const timeout = new Promise<never>((_, reject) => {
              timer = setTimeout(
                () => reject(failed(`no ack from ${where} within ${ACK_TIMEOUT_MS / 1000}s`)),
                ACK_TIMEOUT_MS,
              );
            });
            try {
              await Promise.race([Promise.all(acks), timeout]);
            } finally {
              clearTimeout(timer);
            }
          }
        } catch (err) {
          // A half-sent or unacknowledged batch leaves the stream in an unknown state: start afresh.
          for (const a of acks) a.catch(() => undefined);
          s.destroy();
          throw err;
        }
      },
      async close() {
        connecting?.catch(() => undefined);
        const s = conn?.socket;
        conn = undefined;
        if (s && !s.destroyed) {
          await Promise.race([
            new Promise<void>((r) => s.end(() => r())),
            new Promise<void>((r) => setTimeout(r, 2000).unref()),
          ]);
        }
        s?.destroy();
      },
    };
  },
};
