/** A data source from types.db: `name:TYPE:min:max`. */
export interface DataSource {
  name: string;
  type: 'COUNTER' | 'GAUGE' | 'DERIVE' | 'ABSOLUTE';
}

/** Parses types.db: `type ds:TYPE:min:max[, ds:...]` per line, `#` comments. Returns errors per bad line. */
export function parseTypesDb(text: string): { types: Map<string, DataSource[]>; errors: string[] } {
  const types = new Map<string, DataSource[]>();
  const errors: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const m = /^(\S+)\s+(.+)$/.exec(line);
    if (!m) return void errors.push(`line ${i + 1}: expected 'type ds:TYPE:min:max'`);
    const ds: DataSource[] = [];
    // Data sources are separated by commas and/or blanks.
    for (const part of m[2]!.split(/[,\s]+/).filter(Boolean)) {
      const f = part.split(':');
      const type = f[1]?.toUpperCase();
      if (f.length !== 4 || !f[0] || !['COUNTER', 'GAUGE', 'DERIVE', 'ABSOLUTE'].includes(type ?? '')) {
        return void errors.push(`line ${i + 1}: bad data source '${part}'`);
      }
      ds.push({ name: f[0], type: type as DataSource['type'] });
    }
    types.set(m[1]!, ds);
  });
  return { types, errors };
}

/** One value list from a collectd packet (a "values" part with the identifier parts before it). */
export interface CollectdValues {
  host: string;
  plugin: string;
  pluginInstance: string;
  type: string;
  typeInstance: string;
  /** Nanoseconds. */
  time: bigint;
  /** Seconds. */
  interval: number;
  values: Array<{ kind: DataSource['type']; value: number }>;
}

export class CollectdDecodeError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
  }
}

const kinds: DataSource['type'][] = ['COUNTER', 'GAUGE', 'DERIVE', 'ABSOLUTE'];

/**
 * Decodes one collectd binary-protocol datagram (network plugin): parts of `type u16, length u16,
 * body`, where string and number parts set the identifier state that "values" parts use. Values
 * decoded before a malformed part are returned alongside the error. Signed and encrypted packets are
 * refused (the parts are named in the error).
 */
export function decodeCollectdPacket(buf: Buffer): { values: CollectdValues[]; error?: CollectdDecodeError } {
  const out: CollectdValues[] = [];
  const st = { host: '', plugin: '', pluginInstance: '', type: '', typeInstance: '', time: 0n, interval: 0 };
  let p = 0;
  try {
    while (p < buf.length) {
      if (buf.length - p < 4) throw new CollectdDecodeError('truncated part header', p);
      const type = buf.readUInt16BE(p);
      const len = buf.readUInt16BE(p + 2);
      if (len < 4 || p + len > buf.length)
        throw new CollectdDecodeError(`part length ${len} out of range`, p);
      const body = buf.subarray(p + 4, p + len);
      const str = () => {
        if (body.length === 0 || body[body.length - 1] !== 0)
          throw new CollectdDecodeError('string part not NUL-terminated', p);
        return body.toString('utf8', 0, body.length - 1);
      };
      const u64 = () => {
        if (body.length !== 8) throw new CollectdDecodeError('number part must be 8 bytes', p);
        return body.readBigUInt64BE(0);
      };
      switch (type) {
        case 0x0000:
          st.host = str();
          break;
        case 0x0001:
          st.time = u64() * 1_000_000_000n;
          break;
        case 0x0008:
          // 2^-30 second units.
          st.time = (u64() * 1_000_000_000n) >> 30n;
          break;
        case 0x0002:
          st.plugin = str();
          break;
        case 0x0003:
          st.pluginInstance = str();
          break;
        case 0x0004:
          st.type = str();
          break;
        case 0x0005:
          st.typeInstance = str();
          break;
        case 0x0007:
          st.interval = Number(u64());
          break;
        case 0x0009:
          st.interval = Number(u64()) / 2 ** 30;
          break;
        case 0x0006: {
          if (body.length < 2) throw new CollectdDecodeError('values part too short', p);
          const n = body.readUInt16BE(0);
          if (body.length !== 2 + n * 9)
            throw new CollectdDecodeError(`values part of ${body.length} bytes for ${n} values`, p);
          const values: CollectdValues['values'] = [];
          for (let i = 0; i < n; i++) {
            const kind = kinds[body[2 + i]!];
            if (!kind) throw new CollectdDecodeError(`unknown value type ${body[2 + i]}`, p + 6 + i);
            const off = 2 + n + i * 8;
            // Gauges are little-endian doubles; the counters are big-endian integers.
            const value =
              kind === 'GAUGE'
                ? body.readDoubleLE(off)
                : kind === 'DERIVE'
                  ? Number(body.readBigInt64BE(off))
                  : Number(body.readBigUInt64BE(off));
            values.push({ kind, value });
          }
          out.push({ ...st, values });
          break;
        }
        case 0x0100: // message
        case 0x0101: // severity
          break;
        case 0x0200:
          throw new CollectdDecodeError('signed packets are not supported (SecurityLevel Sign)', p);
        case 0x0210:
          throw new CollectdDecodeError('encrypted packets are not supported (SecurityLevel Encrypt)', p);
        default:
          // Unknown part types are skipped, as collectd itself does.
          break;
      }
      p += len;
    }
  } catch (err) {
    if (err instanceof CollectdDecodeError) return { values: out, error: err };
    throw err;
  }
  return { values: out };
}
