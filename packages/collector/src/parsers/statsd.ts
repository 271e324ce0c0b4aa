/** One StatsD sample: `name:value|type[|@rate][|#tag:v,tag]` (etsy StatsD, DogStatsD tags). */
export interface StatsdSample {
  name: string;
  type: 'counter' | 'gauge' | 'timer' | 'histogram' | 'set' | 'distribution';
  /** The number as sent (for sets: the member as a string). */
  value: number | string;
  sampleRate: number;
  /** Gauge or counter with an explicit sign: `+N` / `-N` changes the gauge instead of setting it. */
  incremental?: boolean;
  tags?: Record<string, string>;
}

const types: Record<string, StatsdSample['type']> = {
  c: 'counter',
  g: 'gauge',
  ms: 'timer',
  h: 'histogram',
  s: 'set',
  d: 'distribution',
};

/** Parses one line; returns an error string for a malformed one. */
export function parseStatsdLine(line: string): StatsdSample | string {
  const pipe = line.indexOf('|');
  const colon = pipe < 0 ? line.lastIndexOf(':') : line.lastIndexOf(':', pipe);
  if (colon <= 0) return 'missing name:value';
  if (pipe < 0) return 'missing |type';
  const name = line.slice(0, colon);
  const fields = line.slice(colon + 1).split('|');
  if (fields.length < 2) return 'missing |type';
  const raw = fields[0]!;
  const type = types[fields[1]!];
  if (!type) return `unknown type '${fields[1]}'`;
  const sample: StatsdSample = { name, type, value: 0, sampleRate: 1 };
  if (type === 'set') {
    if (!raw) return 'empty set member';
    sample.value = raw;
  } else {
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) return `'${raw}' is not a number`;
    sample.value = Number(raw);
    if (!Number.isFinite(sample.value)) return `'${raw}' is out of range`;
    // A signed gauge changes the gauge; fluent-bit marks a signed counter incremental too.
    if ((type === 'gauge' || type === 'counter') && (raw[0] === '+' || raw[0] === '-'))
      sample.incremental = true;
  }
  for (const f of fields.slice(2)) {
    if (f[0] === '@') {
      const r = Number(f.slice(1));
      if (!(r > 0 && r <= 1)) return `bad sample rate '${f}'`;
      sample.sampleRate = r;
    } else if (f[0] === '#') {
      sample.tags = {};
      for (const t of f.slice(1).split(',')) {
        if (!t) continue;
        const i = t.indexOf(':');
        sample.tags[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1);
      }
    } else if (f[0] === 'c' && f[1] === ':') {
      // DogStatsD container id: ignored.
    } else return `unknown field '${f}'`;
  }
  return sample;
}

/** Parses a datagram (one or more lines); malformed lines come back as errors beside the samples. */
export function parseStatsdPacket(packet: string): {
  samples: StatsdSample[];
  errors: Array<{ line: string; error: string }>;
} {
  const samples: StatsdSample[] = [];
  const errors: Array<{ line: string; error: string }> = [];
  for (const line of packet.split('\n')) {
    const l = line.trim();
    if (!l) continue;
    const r = parseStatsdLine(l);
    if (typeof r === 'string') errors.push({ line: l.slice(0, 80), error: r });
    else samples.push(r);
  }
  return { samples, errors };
}
