import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { port } from '../config/values.js';
import { CollectorError } from '../errors.js';
import { decodeCollectdPacket, parseTypesDb, type DataSource } from '../parsers/collectd.js';
import type { InputPlugin } from '../plugin.js';
import { nowNs, type CollectorRecord } from '../types.js';
import { datagramBatcher } from './net.js';
import { udpListener } from './udp-listener.js';

const schema = z.strictObject({
  listen: z.string().default('0.0.0.0'),
  port: port.default(25826),
  typesdb: z.string().default('/usr/share/collectd/types.db'),
});

/** Reads every types.db named (comma-separated, as fluent-bit accepts). */
function loadTypes(paths: string): Map<string, DataSource[]> {
  const all = new Map<string, DataSource[]>();
  for (const path of paths.split(',').map((s) => s.trim())) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new CollectorError(
        'SPROUT_ERR_COLLECTOR_TYPESDB',
        `cannot read ${path}: ${(err as Error).message}`,
        'collectd.typesdb',
      );
    }
    const { types, errors } = parseTypesDb(text);
    if (errors.length)
      throw new CollectorError('SPROUT_ERR_COLLECTOR_TYPESDB', `${path}: ${errors[0]}`, 'collectd.typesdb');
    for (const [k, v] of types) all.set(k, v);
  }
  return all;
}

/**
 * `collectd`: the collectd network plugin's binary protocol over UDP. Each value list becomes a
 * record `{host, plugin, plugin_instance, type, type_instance, interval, <data source>: value…}`
 * with the data source names from types.db (`value`, `value_1`… for unknown types).
 */
export const collectdInput: InputPlugin<typeof schema> = {
  name: 'collectd',
  schema,
  create(o, ctx) {
    const types = loadTypes(o.typesdb);
    const push = datagramBatcher(ctx);
    return udpListener(
      {
        listen: o.listen,
        port: o.port,
        field: 'collectd.port',
        onDropped: (n) => ctx.dropped(n, 'receive_queue_full'),
      },
      (buf, start, end) => {
        const msg = buf.subarray(start, end);
        if (push.skip()) return;
        const { values, error } = decodeCollectdPacket(msg);
        if (error) ctx.reject('decode', { error: error.message, offset: error.offset });
        const records: CollectorRecord[] = [];
        for (const v of values) {
          const ds = types.get(v.type);
          if (ds && ds.length !== v.values.length) {
            ctx.reject('typesdb_mismatch', { type: v.type, expected: ds.length, got: v.values.length });
            continue;
          }
          const body: Record<string, unknown> = {
            host: v.host,
            plugin: v.plugin,
            plugin_instance: v.pluginInstance,
            type: v.type,
            type_instance: v.typeInstance,
            interval: v.interval,
          };
          v.values.forEach((x, i) => (body[ds ? ds[i]!.name : i === 0 ? 'value' : `value_${i}`] = x.value));
          records.push({ time: v.time || nowNs(), tag: ctx.tag, body });
        }
        push(records, msg.length);
      },
    );
  },
};
