import { sizeOut } from './common.js';

/** Our key (fluent-bit's, lower case) ↔ the ClusterInput field, with value conversions both ways. */
export interface FieldMap {
  key: string;
  crd: string;
  /** Parsed option value → CRD value (undefined: leave the field out). */
  out?: (v: unknown) => unknown;
  /** CRD value → a value our config accepts. */
  in?: (v: unknown) => unknown;
}

/** tcp sizes are in KB in fluent-bit and in the CRD. */
const kbOut = (v: unknown) => (typeof v === 'number' ? String(Math.ceil(v / 1024)) : undefined);
const str = (v: unknown) => (v === undefined ? undefined : String(v));
const num = (v: unknown) => (v === undefined ? undefined : Number(v));
const headersOut = (v: unknown) => (Array.isArray(v) && v.length ? v.join(', ') : undefined);

const listenPort: FieldMap[] = [
  { key: 'listen', crd: 'listen' },
  { key: 'port', crd: 'port', out: num },
];

/** Plugin name → [ClusterInput spec key, fields]. Keys a ClusterInput cannot express are reported. */
export const clusterInputFields: Record<string, [string, FieldMap[]]> = {
  opentelemetry: [
    'openTelemetry',
    [
      ...listenPort,
      { key: 'tag_key', crd: 'tagKey' },
      { key: 'tag_from_uri', crd: 'tagFromURI' },
      { key: 'raw_traces', crd: 'rawTraces' },
      { key: 'buffer_max_size', crd: 'bufferMaxSize', out: sizeOut },
      { key: 'buffer_chunk_size', crd: 'bufferChunkSize', out: sizeOut },
      { key: 'successful_response_code', crd: 'successfulResponseCode', out: num },
      { key: 'tag', crd: 'tag' },
    ],
  ],
  http: [
    'http',
    [
      ...listenPort,
      { key: 'tag_key', crd: 'tagKey' },
      { key: 'buffer_max_size', crd: 'bufferMaxSize', out: sizeOut },
      { key: 'buffer_chunk_size', crd: 'bufferChunkSize', out: sizeOut },
      { key: 'successful_response_code', crd: 'successfulResponseCode', out: num },
      // The CRD holds one header string; several are joined with ", " and split back.
      { key: 'success_header', crd: 'successfulHeader', out: headersOut, in: (v) => String(v).split(/,\s*/) },
    ],
  ],
  mqtt: ['mqtt', listenPort],
  collectd: ['collectd', [...listenPort, { key: 'typesdb', crd: 'typesDB' }]],
  nginx_metrics: [
    'nginx',
    [
      { key: 'host', crd: 'host' },
      { key: 'port', crd: 'port', out: num },
      { key: 'status_url', crd: 'statusURL' },
      { key: 'nginx_plus', crd: 'nginxPlus' },
    ],
  ],
  statsd: ['statsd', listenPort],
  syslog: [
    'syslog',
    [
      { key: 'mode', crd: 'mode' },
      ...listenPort,
      { key: 'path', crd: 'path' },
      // The CRD holds the octal digits as a decimal integer (0o644 → 644).
      {
        key: 'unix_perm',
        crd: 'unixPerm',
        out: (v) => (typeof v === 'number' ? Number(v.toString(8)) : undefined),
        in: (v) => String(v).padStart(4, '0'),
      },
      { key: 'parser', crd: 'parser' },
      { key: 'buffer_chunk_size', crd: 'bufferChunkSize', out: sizeOut },
      { key: 'buffer_max_size', crd: 'bufferMaxSize', out: sizeOut },
      { key: 'receive_buffer_size', crd: 'receiveBufferSize', out: sizeOut },
      { key: 'source_address_key', crd: 'sourceAddressKey' },
      { key: 'tag', crd: 'tag' },
    ],
  ],
  forward: [
    'forward',
    [
      ...listenPort,
      { key: 'unix_path', crd: 'unixPath' },
      { key: 'unix_perm', crd: 'unixPerm' },
      { key: 'tag_prefix', crd: 'tagPrefix', out: (v) => (v === '' ? undefined : v) },
      { key: 'buffer_max_size', crd: 'bufferMaxSize', out: sizeOut },
      // The CRD spells this one with a lower-case c.
      { key: 'buffer_chunk_size', crd: 'bufferchunkSize', out: sizeOut },
    ],
  ],
  tcp: [
    'tcp',
    [
      ...listenPort,
      { key: 'buffer_size', crd: 'bufferSize', out: kbOut },
      { key: 'chunk_size', crd: 'chunkSize', out: kbOut },
      { key: 'format', crd: 'format' },
      { key: 'separator', crd: 'separator', out: str },
    ],
  ],
};
