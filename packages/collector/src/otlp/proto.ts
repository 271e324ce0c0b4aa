import protobuf from 'protobufjs';

/**
 * The OTLP messages the collector reads and writes (opentelemetry-proto v1: common, resource, logs,
 * metrics, trace and the three export services), with upstream's field numbers and types.
 * Exemplars and exponential-histogram buckets are left out: protobuf skips unknown fields on decode.
 */
const schema = `
syntax = "proto3";
package otlp;

message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }

message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3; }
message LogRecord {
  fixed64 time_unix_nano = 1; fixed64 observed_time_unix_nano = 11; int32 severity_number = 2; string severity_text = 3;
  AnyValue body = 5; repeated KeyValue attributes = 6; uint32 dropped_attributes_count = 7; fixed32 flags = 8;
  bytes trace_id = 9; bytes span_id = 10; string event_name = 12;
}
message ExportLogsServiceResponse { ExportLogsPartialSuccess partial_success = 1; }
message ExportLogsPartialSuccess { int64 rejected_log_records = 1; string error_message = 2; }

message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; string schema_url = 3; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; string schema_url = 3; }
message Metric {
  string name = 1; string description = 2; string unit = 3;
  oneof data { Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; Summary summary = 11; }
  repeated KeyValue metadata = 12;
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message Summary { repeated SummaryDataPoint data_points = 1; }
message NumberDataPoint {
  repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; }
  uint32 flags = 8;
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; fixed64 count = 4;
  optional double sum = 5; repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7; uint32 flags = 10;
  optional double min = 11; optional double max = 12;
}
message SummaryDataPoint {
  repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; fixed64 count = 4;
  double sum = 5; repeated ValueAtQuantile quantile_values = 6; uint32 flags = 8;
}
message ValueAtQuantile { double quantile = 1; double value = 2; }
message ExportMetricsServiceResponse { ExportMetricsPartialSuccess partial_success = 1; }
message ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string error_message = 2; }

message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; fixed32 flags = 16;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; uint32 dropped_attributes_count = 10; repeated Event events = 11;
  uint32 dropped_events_count = 12; repeated Link links = 13; uint32 dropped_links_count = 14; Status status = 15;
  message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
  message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
}
message Status { string message = 2; int32 code = 3; }
message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
message ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
`;

const root = protobuf.parse(schema, { keepCase: false }).root;

export type Signal = 'logs' | 'metrics' | 'traces';

const requestType: Record<Signal, protobuf.Type> = {
  logs: root.lookupType('otlp.ExportLogsServiceRequest'),
  metrics: root.lookupType('otlp.ExportMetricsServiceRequest'),
  traces: root.lookupType('otlp.ExportTraceServiceRequest'),
};
const responseType: Record<Signal, protobuf.Type> = {
  logs: root.lookupType('otlp.ExportLogsServiceResponse'),
  metrics: root.lookupType('otlp.ExportMetricsServiceResponse'),
  traces: root.lookupType('otlp.ExportTraceServiceResponse'),
};

/** Decodes a protobuf export request into the OTLP/JSON shape (camelCase, int64 as strings, bytes as hex). */
export function decodeRequest(signal: Signal, bytes: Uint8Array): Record<string, unknown> {
  return plain(requestType[signal].decode(bytes)) as Record<string, unknown>;
}

/**
 * Copies a decoded message into plain objects: set fields only (decoded messages carry them as own
 * properties, defaults live on the prototype), 64-bit integers as decimal strings, empty repeated
 * fields dropped. About twice as fast as protobufjs's generic `toObject` on OTLP.
 */
function plain(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = plain(v[i]);
    return out;
  }
  const o = v as Record<string, unknown>;
  if (typeof o.low === 'number' && typeof o.high === 'number' && typeof o.unsigned === 'boolean') {
    const u = (BigInt((o.high as number) >>> 0) << 32n) | BigInt((o.low as number) >>> 0);
    return (o.unsigned ? u : BigInt.asIntN(64, u)).toString();
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (Array.isArray(x) && x.length === 0) continue;
    out[k] = plain(x);
  }
  return out;
}

/** A trace or span id as hex, from protobuf bytes or an OTLP/JSON string. */
export function hexId(v: unknown): string | undefined {
  if (typeof v === 'string') return v || undefined;
  if (v instanceof Uint8Array)
    return v.length ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') : undefined;
  return undefined;
}

/** Encodes an OTLP/JSON-shaped request (ids as hex) as protobuf. */
export function encodeRequest(signal: Signal, obj: Record<string, unknown>): Uint8Array {
  const t = requestType[signal];
  return t.encode(t.fromObject(unhexIds(obj) as Record<string, unknown>)).finish();
}

/** An empty (fully successful) export response. */
export function encodeResponse(signal: Signal): Uint8Array {
  return responseType[signal].encode(responseType[signal].create({})).finish();
}

const idKeys = new Set(['traceId', 'spanId', 'parentSpanId']);

/** OTLP/JSON writes trace and span ids as hex; protobuf wants bytes. */
function unhexIds(v: unknown, key = ''): unknown {
  if (typeof v === 'string' && idKeys.has(key)) return Buffer.from(v, 'hex');
  if (Array.isArray(v)) return v.map((x) => unhexIds(x));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unhexIds(x, k)]));
  return v;
}

/**
 * A log record's body as a record body, as fluent-bit's opentelemetry input makes it: without
 * `logs_body_key` a map is the record and any other value goes under `log`; with it, every value
 * (a map too) goes under that key.
 */
export function recordBody(value: unknown, bodyKey: string | undefined): Record<string, unknown> {
  if (bodyKey === undefined && value && typeof value === 'object' && !Array.isArray(value))
    return value as Record<string, unknown>;
  return { [bodyKey ?? 'log']: value };
}
