import type { CollectorConfig } from '../config/load.js';
import { API, defaultsOf, isLoopback, meta, notRenderable, same, sizeOut, type Obj } from './common.js';

type OutputConfig = CollectorConfig['outputs'][number];

export interface RenderedOutput {
  manifest: Obj;
  /** Keys set in the config that a ClusterOutput cannot carry (left out, never silently). */
  dropped: string[];
  /** What the user must do or know for the cluster (a Secret to create, a loopback host), one line each. */
  notes: string[];
}

interface Ctx {
  id: string;
  /** The Secret forward's username and password are read from. */
  secret: string;
}

interface OutField {
  key: string;
  crd: string;
  /** Option value → CRD value; throws when the value has no equivalent. */
  out?: (v: unknown, ctx: Ctx) => unknown;
  /** Written even at our default (fluent-bit's default differs, or it names the destination). */
  always?: boolean;
}

const refuse =
  (why: string) =>
  (_v: unknown, ctx: Ctx): never => {
    throw notRenderable(why, ctx.id);
  };
const only = (allowed: string[], key: string) => (v: unknown, ctx: Ctx) => {
  if (!allowed.includes(String(v)))
    throw notRenderable(
      `${key} '${String(v)}' has no Fluent Operator equivalent (it takes ${allowed.join(', ')})`,
      `${ctx.id}.${key}`,
    );
  return v;
};
const dateKey: OutField = { key: 'json_date_key', crd: 'jsonDateKey', out: (v) => String(v) };
/** `Name value` headers → the CRD's map; a name given twice cannot be carried by a map. */
const headerMap = (v: unknown, ctx: Ctx) => {
  const map: Record<string, string> = {};
  for (const h of v as string[]) {
    const i = h.search(/\s/);
    const [k, val] = i < 0 ? [h, ''] : [h.slice(0, i), h.slice(i).trim()];
    if (k in map)
      throw notRenderable(`header ${k} is given twice; a ClusterOutput holds one value per header`, ctx.id);
    map[k] = val;
  }
  return map;
};
const secretRef = (key: string) => (_v: unknown, ctx: Ctx) => ({
  valueFrom: { secretKeyRef: { name: ctx.secret, key } },
});
const hostPort: OutField[] = [
  { key: 'host', crd: 'host', always: true },
  { key: 'port', crd: 'port', always: true },
];

/** Plugin → [ClusterOutput spec key, fields]. */
const typed: Record<string, [string, OutField[]]> = {
  // fluent-bit's stdout prints msgpack unless told: the format is always written.
  stdout: [
    'stdout',
    [
      { key: 'format', crd: 'format', always: true },
      dateKey,
      {
        key: 'json_date_format',
        crd: 'jsonDateFormat',
        out: only(['double', 'iso8601', 'epoch'], 'json_date_format'),
      },
    ],
  ],
  file: [
    'file',
    [
      { key: 'path', crd: 'path' },
      { key: 'file', crd: 'file' },
      { key: 'format', crd: 'format', out: only(['out_file', 'plain', 'template'], 'format') },
      { key: 'template', crd: 'template' },
    ],
  ],
  http: [
    'http',
    [
      ...hostPort,
      { key: 'uri', crd: 'uri' },
      // fluent-bit's http output posts msgpack unless told: the format is always written.
      { key: 'format', crd: 'format', always: true },
      { key: 'header', crd: 'headers', out: headerMap },
      { key: 'compress', crd: 'compress' },
      dateKey,
      { key: 'json_date_format', crd: 'jsonDateFormat' },
    ],
  ],
  opentelemetry: [
    'opentelemetry',
    [
      ...hostPort,
      { key: 'logs_uri', crd: 'logsUri' },
      { key: 'metrics_uri', crd: 'metricsUri' },
      { key: 'traces_uri', crd: 'tracesUri' },
      { key: 'header', crd: 'header', out: headerMap },
    ],
  ],
  forward: [
    'forward',
    [
      ...hostPort,
      {
        key: 'unix_path',
        crd: '',
        out: refuse('unix_path: a ClusterOutput forward sends over TCP only; use host and port'),
      },
      { key: 'tag', crd: 'tag' },
      { key: 'time_as_integer', crd: 'timeAsInteger' },
      { key: 'send_options', crd: 'sendOptions' },
      { key: 'require_ack_response', crd: 'requireAckResponse' },
      { key: 'shared_key', crd: 'sharedKey' },
      { key: 'empty_shared_key', crd: 'emptySharedKey' },
      { key: 'self_hostname', crd: 'selfHostname' },
      { key: 'username', crd: 'username', out: secretRef('username') },
      { key: 'password', crd: 'password', out: secretRef('password') },
    ],
  ],
  null: ['null', []],
};

/** fluent-bit outputs the CRD has no field for, written as a customPlugin's classic config. */
const custom: Record<string, { keys: Record<string, string>; always: string[] }> = {
  counter: { keys: {}, always: [] },
  pgsql: {
    keys: {
      host: 'Host',
      port: 'Port',
      user: 'User',
      database: 'Database',
      table: 'Table',
      connection_options: 'Connection_Options',
      timestamp_key: 'Timestamp_Key',
      async: 'Async',
      min_pool_size: 'Min_Pool_Size',
      max_pool_size: 'Max_Pool_Size',
    },
    always: ['host', 'port', 'database', 'table'],
  },
};

function customConfig(output: OutputConfig, o: Obj, defaults: Obj, dropped: string[]): string {
  const { keys, always } = custom[output.plugin.name]!;
  if (o.password !== undefined)
    throw notRenderable(
      'pgsql password would be written in clear into a cluster-wide ClusterOutput (Fluent Operator has no pgsql output with Secret references); leave it out and let PostgreSQL authenticate the Collector otherwise',
      `${output.id}.password`,
    );
  const lines = [`Name ${output.plugin.name}`];
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || (!always.includes(k) && same(v, defaults[k]))) continue;
    const name = keys[k];
    if (!name) {
      dropped.push(k);
      continue;
    }
    const text = typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v);
    if (/[\r\n]/.test(text)) throw notRenderable(`${k} holds a line break`, `${output.id}.${k}`);
    lines.push(`${name} ${text}`);
  }
  return lines.join('\n');
}

/**
 * Renders one output as a Fluent Operator `ClusterOutput`. Options at fluent-bit's defaults are left
 * out; destinations (host, port) and formats whose fluent-bit default differs from ours are always
 * written. Outputs fluent-bit has but the CRD types not (pgsql, counter) go in `customPlugin`.
 */
export function renderClusterOutput(
  output: OutputConfig,
  opts: { name: string; pipeline: string; namespace: string },
): RenderedOutput {
  const o = output.options as Obj;
  const defaults = defaultsOf(output.plugin.schema);
  const dropped: string[] = [];
  const notes: string[] = [];
  const ctx: Ctx = { id: output.id, secret: meta(opts.name, opts.pipeline).name };
  const section: Obj = {};
  let specKey: string;
  if (custom[output.plugin.name]) {
    specKey = 'customPlugin';
    section.config = customConfig(output, o, defaults, dropped);
  } else {
    const entry = typed[output.plugin.name];
    if (!entry) throw notRenderable(`no ClusterOutput mapping for ${output.plugin.name}`, output.id);
    let fields: OutField[];
    [specKey, fields] = entry;
    for (const [key, value] of Object.entries(o)) {
      if (value === undefined) continue;
      const f = fields.find((x) => x.key === key);
      if (!f) {
        if (!same(value, defaults[key])) dropped.push(key);
        continue;
      }
      if (!f.always && same(value, defaults[key])) continue;
      const v = f.out ? f.out(value, ctx) : value;
      if (v !== undefined) section[f.crd] = v;
    }
    if (o.username !== undefined)
      notes.push(
        `${output.id}: username and password are read from Secret ${ctx.secret} (keys username, password) in namespace ${opts.namespace}: kubectl -n ${opts.namespace} create secret generic ${ctx.secret} --from-literal=username=... --from-literal=password=...`,
      );
  }
  const host = o.host;
  if (typeof host === 'string' && o.unix_path === undefined && isLoopback(host))
    notes.push(
      `${output.id}: sends to ${host}, which in Kubernetes is the Collector pod itself: set host to the destination's Service`,
    );
  const c = output.common;
  const limit = c['storage.total_limit_size'];
  if (limit !== undefined) {
    if (specKey === 'http' || specKey === 'opentelemetry') section.totalLimitSize = sizeOut(limit);
    else dropped.push('storage.total_limit_size');
  }
  if (c.workers !== undefined) dropped.push('workers');
  const spec: Obj = {};
  if (c.match !== undefined) spec.match = c.match;
  if (c.match_regex !== undefined) spec.matchRegex = c.match_regex;
  if (c.alias) spec.alias = c.alias;
  if (c.retry_limit !== 1)
    spec.retry_limit =
      c.retry_limit === Infinity ? 'no_limits' : c.retry_limit === 0 ? 'no_retries' : String(c.retry_limit);
  spec[specKey] = section;
  return {
    manifest: { apiVersion: API, kind: 'ClusterOutput', metadata: meta(opts.name, opts.pipeline), spec },
    dropped,
    notes,
  };
}
