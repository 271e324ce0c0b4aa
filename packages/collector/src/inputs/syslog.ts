import { chmodSync, rmSync } from 'node:fs';
import type { UnixDgramSocket } from 'unix-dgram';
import { z } from 'zod';
import { port, size } from '../config/values.js';
import { CollectorError } from '../errors.js';
import { SyslogFrameSplitter } from '../parsers/syslog-frame.js';
import type { InputPlugin } from '../plugin.js';
import { nowNs, type CollectorRecord } from '../types.js';
import {
  addressOf,
  closeServer,
  datagramBatcher,
  listen,
  pumpSocket,
  trackedServer,
  udpListener,
} from './net.js';

const schema = z
  .strictObject({
    mode: z.enum(['udp', 'tcp', 'unix_udp', 'unix_tcp']).default('unix_udp'),
    listen: z.string().default('0.0.0.0'),
    port: port.default(5140),
    path: z.string().optional(),
    unix_perm: z.string().default('0644'),
    parser: z.string().optional(),
    buffer_chunk_size: size().default(32_000),
    buffer_max_size: size().optional(),
    receive_buffer_size: size().optional(),
    source_address_key: z.string().optional(),
  })
  .superRefine((o, ctx) => {
    if (o.mode.startsWith('unix') && !o.path)
      ctx.addIssue({ code: 'custom', path: ['path'], message: `mode ${o.mode} needs a path` });
  });

/**
 * `syslog`: RFC 5424 and RFC 3164 over udp, tcp, unix_udp and unix_tcp. TCP accepts octet-counting
 * and LF framing (RFC 6587), detected per message. The parser defaults to syslog-rfc5424 on the
 * network and syslog-rfc3164-local on unix sockets, as in fluent-bit; a message the parser cannot
 * read is rejected and counted.
 */
export const syslogInput: InputPlugin<typeof schema> = {
  name: 'syslog',
  schema,
  create(o, ctx) {
    const max = o.buffer_max_size ?? o.buffer_chunk_size;
    const parse = ctx.parse;
    if (!parse) throw new Error('syslog input created without a parser');
    const toRecord = (frame: Buffer, source?: string): CollectorRecord | undefined => {
      const text = frame.toString('utf8').replace(/[\r\n]+$/, '');
      const p = parse(text);
      if (!p) {
        ctx.reject('unparsable', { sample: text.slice(0, 80) });
        return undefined;
      }
      if (source && o.source_address_key) p.body[o.source_address_key] = source;
      return { time: p.time ?? nowNs(), tag: ctx.tag, body: p.body };
    };

    if (o.mode === 'udp' || o.mode === 'unix_udp') {
      const push = datagramBatcher(ctx);
      const onMessage = (msg: Buffer, source?: string) => {
        if (msg.length > max) return ctx.reject('too_large', { bytes: msg.length, limit: max });
        const r = toRecord(msg, source);
        if (r) push([r], msg.length);
      };
      if (o.mode === 'udp') {
        return udpListener(
          { listen: o.listen, port: o.port, field: 'syslog.port', recvBufferSize: o.receive_buffer_size },
          (m, r) => onMessage(m, `udp://${r.address}:${r.port}`),
        );
      }
      let sock: UnixDgramSocket | undefined;
      return {
        async start() {
          const { createSocket } = await import('unix-dgram');
          rmSync(o.path!, { force: true });
          sock = createSocket('unix_dgram', (m: Buffer) => onMessage(m, o.path));
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
          chmodSync(o.path!, parseInt(o.unix_perm, 8));
        },
        async close() {
          sock?.close();
          rmSync(o.path!, { force: true });
        },
        address: () => ({ path: o.path! }),
      };
    }

    const { server, sockets } = trackedServer((s) => {
      const splitter = new SyslogFrameSplitter(max);
      const source = o.mode === 'tcp' ? `tcp://${s.remoteAddress}:${s.remotePort}` : o.path;
      pumpSocket(s, (chunk) => {
        const r = splitter.push(chunk);
        for (const x of r.rejected) ctx.reject(x.reason, { bytes: x.bytes, limit: max });
        const records: CollectorRecord[] = [];
        for (const f of r.frames) {
          const rec = toRecord(f, source);
          if (rec) records.push(rec);
        }
        return records.length ? ctx.emit(records, chunk.length) : undefined;
      });
    });
    return {
      async start() {
        if (o.mode === 'unix_tcp') {
          rmSync(o.path!, { force: true });
          await listen(server, 'syslog.path', { path: o.path! });
          chmodSync(o.path!, parseInt(o.unix_perm, 8));
        } else await listen(server, 'syslog.port', { port: o.port, host: o.listen });
      },
      close: () => closeServer(server, sockets),
      address: () => addressOf(server),
    };
  },
  defaultParser: (o) => (o.mode === 'udp' || o.mode === 'tcp' ? 'syslog-rfc5424' : 'syslog-rfc3164-local'),
};
