import { chmodSync, rmSync } from 'node:fs';
import type { UnixDgramSocket } from 'unix-dgram';
import { z } from 'zod';
import { port, size } from '../config/values.js';
import { CollectorError } from '../errors.js';
import { SyslogFrameSplitter } from '../parsers/syslog-frame.js';
import { syslogAutoParse } from '../parsers/text.js';
import { applyNetKeys, hasNetKeys, streamNetKeys, withAcceptTimeout } from './net-keys.js';
import { serverTlsOptions, tlsKeys } from './tls.js';
import type { InputPlugin } from '../plugin.js';
import { nowNs, type CollectorRecord } from '../types.js';
import { addressOf, closeServer, datagramBatcher, listen, pumpSocket, trackedServer } from './net.js';
import { udpListener } from './udp-listener.js';

/**
 * Permissions of a unix socket in octal, as a string ('0600') or as the number YAML makes of an
 * unquoted 0600 or 600 (its decimal digits are the octal ones).
 */
const unixPerm = z
  .union([z.string(), z.number().int().nonnegative()])
  .transform((v) => String(v))
  .refine((v) => /^0?[0-7]{3}$/.test(v), 'unix_perm must be three octal digits, like 0644')
  .transform((v) => parseInt(v, 8))
  .default(0o644);

const schema = z
  .strictObject({
    mode: z.enum(['udp', 'tcp', 'unix_udp', 'unix_tcp']).default('unix_udp'),
    listen: z.string().default('0.0.0.0'),
    port: port.default(5140),
    path: z.string().optional(),
    unix_perm: unixPerm,
    parser: z.string().optional(),
    frame: z.enum(['newline', 'octet_counting']).optional(),
    /** fluent-bit's name for `frame` (TCP framing). */
    format: z.enum(['newline', 'octet_counting']).optional(),
    raw_message_key: z.string().min(1).optional(),
    buffer_chunk_size: size().default(32_000),
    buffer_max_size: size().optional(),
    receive_buffer_size: size().optional(),
    source_address_key: z.string().optional(),
    ...tlsKeys,
    ...streamNetKeys,
  })
  .superRefine((o, ctx) => {
    if (o.mode.startsWith('unix') && !o.path)
      ctx.addIssue({ code: 'custom', path: ['path'], message: `mode ${o.mode} needs a path` });
    if (o.tls && o.mode !== 'tcp')
      ctx.addIssue({ code: 'custom', path: ['tls'], message: `tls needs mode tcp (mode is ${o.mode})` });
    for (const k of ['frame', 'format'] as const)
      if (o[k] !== undefined && o.mode.endsWith('udp'))
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: `${k} is the framing of a stream; in mode ${o.mode} each datagram is one message (use tcp or unix_tcp)`,
        });
    if (o.format !== undefined && o.frame !== undefined && o.format !== o.frame)
      ctx.addIssue({
        code: 'custom',
        path: ['format'],
        message: 'format and frame name the same thing: set one',
      });
    if (o.mode.endsWith('udp') && hasNetKeys(o))
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message: `net.* keys apply to connections; mode ${o.mode} has none (use tcp or unix_tcp)`,
      });
  });

/**
 * `syslog`: RFC 5424 and RFC 3164 over udp, tcp, unix_udp and unix_tcp. TCP accepts octet-counting
 * and LF framing (RFC 6587), detected per message unless `frame` fixes one. Without a `parser`
 * every mode reads RFC 5424 and both forms of RFC 3164 (fluent-bit reads one format per mode). A
 * message no parser reads is kept, never dropped: `{message, parse_error: true}`. `raw_message_key` keeps the message as received beside the parsed fields.
 */
export const syslogInput: InputPlugin<typeof schema> = {
  name: 'syslog',
  schema,
  create(o, ctx) {
    const max = o.buffer_max_size ?? o.buffer_chunk_size;
    const parse = ctx.parse ?? syslogAutoParse;
    /** The record of the message in `buf[start, end)` (trailing CR/LF dropped). */
    const toRecord = (buf: Buffer, start: number, end: number, source?: string): CollectorRecord => {
      while (end > start && (buf[end - 1] === 0x0a || buf[end - 1] === 0x0d)) end--;
      const text = buf.toString('utf8', start, end);
      let p = parse(text);
      p ??= { body: { message: text, parse_error: true } };
      if (o.raw_message_key) p.body[o.raw_message_key] = text;
      if (source && o.source_address_key) p.body[o.source_address_key] = source;
      return { time: p.time ?? nowNs(), tag: ctx.tag, body: p.body };
    };

    if (o.mode === 'udp' || o.mode === 'unix_udp') {
      const push = datagramBatcher(ctx);
      const onMessage = (buf: Buffer, start: number, end: number, source?: string) => {
        if (push.skip()) return;
        const n = end - start;
        if (n > max) return ctx.reject('too_large', { bytes: n, limit: max });
        push([toRecord(buf, start, end, source)], n);
      };
      if (o.mode === 'udp') {
        return udpListener(
          {
            listen: o.listen,
            port: o.port,
            field: 'syslog.port',
            recvBufferSize: o.receive_buffer_size,
            sources: !!o.source_address_key,
            onDropped: (n) => ctx.dropped(n, 'receive_queue_full'),
          },
          o.source_address_key
            ? (buf, start, end, from) => onMessage(buf, start, end, `udp://${from}`)
            : (buf, start, end) => onMessage(buf, start, end),
        );
      }
      let sock: UnixDgramSocket | undefined;
      return {
        async start() {
          const { createSocket } = await import('unix-dgram');
          rmSync(o.path!, { force: true });
          sock = createSocket('unix_dgram', (m: Buffer) => onMessage(m, 0, m.length, o.path));
          await new Promise<void>((resolve, reject) => {
            sock!.once('error', (err: Error) =>
              reject(
                new CollectorError(
                  'SPROUT_ERR_COLLECTOR_LISTEN',
                  `cannot bind ${o.path}: ${err.message}`,
                  'syslog.path',
                ),
              ),
            );
            sock!.once('listening', () => resolve());
            sock!.bind(o.path!);
          });
          chmodSync(o.path!, o.unix_perm);
        },
        async close() {
          sock?.close();
          rmSync(o.path!, { force: true });
        },
        address: () => ({ path: o.path! }),
      };
    }

    const tls = withAcceptTimeout(serverTlsOptions(o, 'syslog'), o);
    const { server, sockets } = trackedServer((s) => {
      const splitter = new SyslogFrameSplitter(max, o.format ?? o.frame ?? 'auto');
      const source = o.mode === 'tcp' ? `tcp://${s.remoteAddress}:${s.remotePort}` : o.path;
      pumpSocket(s, (chunk) => {
        const records: CollectorRecord[] = [];
        const rejected = splitter.scan(chunk, (buf, start, end) =>
          records.push(toRecord(buf, start, end, source)),
        );
        for (const x of rejected) ctx.reject(x.reason, { bytes: x.bytes, limit: max });
        return records.length ? ctx.emit(records, chunk.length) : undefined;
      });
    }, tls);
    const backlog = applyNetKeys(server, o, ctx.log, 'syslog');
    return {
      async start() {
        if (o.mode === 'unix_tcp') {
          rmSync(o.path!, { force: true });
          await listen(server, 'syslog.path', { path: o.path! }, backlog);
          chmodSync(o.path!, o.unix_perm);
        } else await listen(server, 'syslog.port', { port: o.port, host: o.listen }, backlog);
      },
      close: () => closeServer(server, sockets),
      address: () => addressOf(server),
    };
  },
};
