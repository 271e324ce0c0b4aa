import { nowNs, type CollectorRecord } from '../types.js';
import { hexId, recordBody, type Signal } from './proto.js';

type Obj = Record<string, unknown>;
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

/** OTLP AnyValue (JSON shape) → a plain JS value. */
function fromAnyValue(v: unknown): unknown {
  if (!v || typeof v !== 'object') return null;
  const a = v as Obj;
  if ('stringValue' in a) return a.stringValue;
  if ('boolValue' in a) return a.boolValue;
  if ('intValue' in a) {
    const n = Number(a.intValue);
    return Number.isSafeInteger(n) ? n : String(a.intValue);
  }
  if ('doubleValue' in a) return Number(a.doubleValue);
  if ('arrayValue' in a) return list((a.arrayValue as Obj | undefined)?.values).map(fromAnyValue);
  if ('kvlistValue' in a) return attrs((a.kvlistValue as Obj | undefined)?.values);
  if ('bytesValue' in a)
    return a.bytesValue instanceof Uint8Array ? Buffer.from(a.bytesValue).toString('base64') : a.bytesValue;
  return null;
}

/** A plain JS value → OTLP AnyValue (JSON shape). */
function toAnyValue(v: unknown): Obj {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  if (typeof v === 'bigint') return { intValue: v.toString() };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(toAnyValue) } };
  if (v && typeof v === 'object') return { kvlistValue: { values: toAttrs(v as Obj) } };
  return {};
}

function attrs(kvs: unknown): Obj {
  const out: Obj = {};
  for (const kv of list(kvs)) out[String(kv.key)] = fromAnyValue(kv.value);
  return out;
}

function toAttrs(o: Obj | undefined): Obj[] {
  return Object.entries(o ?? {}).map(([key, value]) => ({ key, value: toAnyValue(value) }));
}

const ns = (v: unknown): bigint | undefined => {
  if (v === undefined || v === null || v === '' || v === '0' || v === 0) return undefined;
  try {
    return BigInt(v as string);
  } catch {
    return undefined;
  }
};

function scopeOf(s: unknown): Obj | undefined {
  if (!s || typeof s !== 'object') return undefined;
  const o = s as Obj;
  return { name: o.name ?? '', version: o.version ?? '', attributes: attrs(o.attributes) };
}

/**
 * Turns an export request (OTLP/JSON shape) into records: one per log record, metric data point or
 * span. OTLP context (resource and scope attributes, severity, ids) goes to `meta.otlp`.
 */
export function requestToRecords(
  signal: Signal,
  req: Obj,
  tag: string,
  rawTraces: boolean,
  bodyKey?: string,
): CollectorRecord[] {
  const out: CollectorRecord[] = [];
  const now = nowNs();
  if (signal === 'logs') {
    for (const rl of list(req.resourceLogs)) {
      const resource = attrs((rl.resource as Obj | undefined)?.attributes);
      for (const sl of list(rl.scopeLogs)) {
        const scope = scopeOf(sl.scope);
        for (const lr of list(sl.logRecords)) {
          const body = recordBody(fromAnyValue(lr.body), bodyKey);
          const otlp: Obj = { resource, scope, attributes: attrs(lr.attributes) };
          for (const k of ['severityText', 'severityNumber', 'flags', 'eventName'] as const)
            if (lr[k] !== undefined && lr[k] !== '') otlp[k] = lr[k];
          const traceId = hexId(lr.traceId);
          const spanId = hexId(lr.spanId);
          if (traceId) otlp.traceId = traceId;
          if (spanId) otlp.spanId = spanId;
          out.push({
            time: ns(lr.timeUnixNano) ?? ns(lr.observedTimeUnixNano) ?? now,
            tag,
            body,
            meta: { otlp },
          });
        }
      }
    }
  } else if (signal === 'metrics') {
    for (const rm of list(req.resourceMetrics)) {
      const resource = attrs((rm.resource as Obj | undefined)?.attributes);
      for (const sm of list(rm.scopeMetrics)) {
        const scope = scopeOf(sm.scope);
        for (const m of list(sm.metrics)) {
          const base: Obj = { name: m.name };
          if (m.unit) base.unit = m.unit;
          if (m.description) base.description = m.description;
          const kinds: Array<[string, Obj | undefined]> = [
            ['gauge', m.gauge as Obj | undefined],
            ['sum', m.sum as Obj | undefined],
            ['histogram', m.histogram as Obj | undefined],
            ['summary', m.summary as Obj | undefined],
          ];
          for (const [kind, data] of kinds) {
            if (!data) continue;
            for (const dp of list(data.dataPoints)) {
              const body: Obj = {
                ...base,
                type: kind === 'sum' ? (data.isMonotonic ? 'counter' : 'gauge') : kind,
                labels: attrs(dp.attributes),
              };
              if (kind === 'sum') {
                body.otlp_type = 'sum';
                body.monotonic = data.isMonotonic === true;
              }
              if (data.aggregationTemporality !== undefined) body.temporality = data.aggregationTemporality;
              if (kind === 'gauge' || kind === 'sum')
                body.value = dp.asDouble !== undefined ? Number(dp.asDouble) : Number(dp.asInt ?? 0);
              else {
                body.count = Number(dp.count ?? 0);
                body.sum = Number(dp.sum ?? 0);
                body.value = body.sum;
                if (kind === 'histogram') {
                  body.bucket_counts = list(dp.bucketCounts).map(Number);
                  body.explicit_bounds = list(dp.explicitBounds).map(Number);
                } else
                  body.quantiles = list(dp.quantileValues).map((q) => ({
                    quantile: Number(q.quantile ?? 0),
                    value: Number(q.value ?? 0),
                  }));
              }
              const start = ns(dp.startTimeUnixNano);
              if (start) body.start_time = start.toString();
              out.push({
                time: ns(dp.timeUnixNano) ?? now,
                tag,
                kind: 'metric',
                body,
                meta: { otlp: { resource, scope } },
              });
            }
          }
        }
      }
    }
  } else {
    for (const rs of list(req.resourceSpans)) {
      const resource = attrs((rs.resource as Obj | undefined)?.attributes);
      for (const ss of list(rs.scopeSpans)) {
        const scope = scopeOf(ss.scope);
        for (const s of list(ss.spans)) {
          const body: Obj = {
            trace_id: hexId(s.traceId),
            span_id: hexId(s.spanId),
            name: s.name,
            kind: s.kind ?? 0,
            start_time: String(s.startTimeUnixNano ?? '0'),
            end_time: String(s.endTimeUnixNano ?? '0'),
            attributes: attrs(s.attributes),
          };
          const parent = hexId(s.parentSpanId);
          if (parent) body.parent_span_id = parent;
          if (s.traceState) body.trace_state = s.traceState;
          if (s.status)
            body.status = { code: (s.status as Obj).code ?? 0, message: (s.status as Obj).message ?? '' };
          const events = list(s.events);
          if (events.length)
            body.events = events.map((e) => ({
              name: e.name,
              time: String(e.timeUnixNano ?? '0'),
              attributes: attrs(e.attributes),
            }));
          const links = list(s.links);
          if (links.length)
            body.links = links.map((l) => ({
              trace_id: hexId(l.traceId),
              span_id: hexId(l.spanId),
              attributes: attrs(l.attributes),
            }));
          out.push({
            time: ns(s.startTimeUnixNano) ?? now,
            tag,
            ...(rawTraces ? {} : { kind: 'trace' as const }),
            body,
            meta: { otlp: { resource, scope } },
          });
        }
      }
    }
  }
  return out;
}

interface Group {
  resource: Obj;
  scope: Obj | undefined;
  items: Obj[];
}

function group(records: CollectorRecord[], build: (r: CollectorRecord) => Obj): Group[] {
  const groups = new Map<string, Group>();
  for (const r of records) {
    const o = (r.meta?.otlp ?? {}) as Obj;
    const resource = (o.resource as Obj | undefined) ?? {};
    const scope = o.scope as Obj | undefined;
    const key = JSON.stringify([resource, scope]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { resource, scope, items: [] }));
    g.items.push(build(r));
  }
  return [...groups.values()];
}

const scopeOut = (s: Obj | undefined) =>
  s ? { name: s.name, version: s.version, attributes: toAttrs(s.attributes as Obj) } : undefined;

/** Records → export requests (OTLP/JSON shape), one per signal present. */
export function recordsToRequests(records: CollectorRecord[]): Partial<Record<Signal, Obj>> {
  const logs = records.filter((r) => !r.kind || r.kind === 'log');
  const metrics = records.filter((r) => r.kind === 'metric');
  const spans = records.filter((r) => r.kind === 'trace');
  const out: Partial<Record<Signal, Obj>> = {};
  if (logs.length) {
    out.logs = {
      resourceLogs: group(logs, (r) => {
        const o = (r.meta?.otlp ?? {}) as Obj;
        const lr: Obj = {
          timeUnixNano: r.time.toString(),
          body: toAnyValue(r.body),
          attributes: toAttrs(o.attributes as Obj | undefined),
        };
        for (const k of ['severityText', 'severityNumber', 'traceId', 'spanId', 'flags', 'eventName'])
          if (o[k] !== undefined) lr[k] = o[k];
        return lr;
      }).map((g) => ({
        resource: { attributes: toAttrs(g.resource) },
        scopeLogs: [{ scope: scopeOut(g.scope), logRecords: g.items }],
      })),
    };
  }
  if (metrics.length) {
    out.metrics = {
      resourceMetrics: group(metrics, (r) => metricOut(r)).map((g) => ({
        resource: { attributes: toAttrs(g.resource) },
        scopeMetrics: [{ scope: scopeOut(g.scope), metrics: g.items }],
      })),
    };
  }
  if (spans.length) {
    out.traces = {
      resourceSpans: group(spans, (r) => spanOut(r)).map((g) => ({
        resource: { attributes: toAttrs(g.resource) },
        scopeSpans: [{ scope: scopeOut(g.scope), spans: g.items }],
      })),
    };
  }
  return out;
}

function metricOut(r: CollectorRecord): Obj {
  const b = r.body;
  const labels = (b.labels as Obj | undefined) ?? {};
  const point: Obj = { attributes: toAttrs(labels), timeUnixNano: r.time.toString() };
  if (b.start_time) point.startTimeUnixNano = b.start_time;
  const m: Obj = { name: String(b.name ?? 'unnamed') };
  if (b.unit) m.unit = b.unit;
  if (b.description) m.description = b.description;
  const type = String(b.type);
  if (type === 'histogram' && Array.isArray(b.bucket_counts)) {
    m.histogram = {
      aggregationTemporality: b.temporality ?? 2,
      dataPoints: [
        {
          ...point,
          count: String(b.count ?? 0),
          sum: Number(b.sum ?? 0),
          bucketCounts: (b.bucket_counts as number[]).map(String),
          explicitBounds: b.explicit_bounds,
        },
      ],
    };
  } else if (type === 'summary' && Array.isArray(b.quantiles)) {
    m.summary = {
      dataPoints: [
        { ...point, count: String(b.count ?? 0), sum: Number(b.sum ?? 0), quantileValues: b.quantiles },
      ],
    };
  } else if (type === 'counter' || b.otlp_type === 'sum') {
    m.sum = {
      aggregationTemporality: b.temporality ?? 2,
      isMonotonic: b.monotonic ?? type === 'counter',
      dataPoints: [{ ...point, asDouble: Number(b.value ?? 0) }],
    };
  } else {
    m.gauge = { dataPoints: [{ ...point, asDouble: Number(b.value ?? 0) }] };
  }
  return m;
}

function spanOut(r: CollectorRecord): Obj {
  const b = r.body;
  const s: Obj = {
    traceId: b.trace_id,
    spanId: b.span_id,
    name: b.name,
    kind: b.kind ?? 0,
    startTimeUnixNano: String(b.start_time ?? r.time),
    endTimeUnixNano: String(b.end_time ?? r.time),
    attributes: toAttrs(b.attributes as Obj | undefined),
  };
  if (b.parent_span_id) s.parentSpanId = b.parent_span_id;
  if (b.trace_state) s.traceState = b.trace_state;
  if (b.status) s.status = b.status;
  if (Array.isArray(b.events))
    s.events = (b.events as Obj[]).map((e) => ({
      name: e.name,
      timeUnixNano: e.time,
      attributes: toAttrs(e.attributes as Obj),
    }));
  if (Array.isArray(b.links))
    s.links = (b.links as Obj[]).map((l) => ({
      traceId: l.trace_id,
      spanId: l.span_id,
      attributes: toAttrs(l.attributes as Obj),
    }));
  return s;
}
