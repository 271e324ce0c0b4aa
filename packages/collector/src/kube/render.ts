import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import type { CollectorConfig, InputConfig } from '../config/load.js';
import { CollectorError } from '../errors.js';
import { clusterInputFields } from './fields.js';

type Obj = Record<string, unknown>;

export interface RenderedInput {
  manifest: Obj;
  /** Keys set in the config that a ClusterInput cannot carry (they are left out, never silently). */
  dropped: string[];
}

const API = 'fluentbit.fluent.io/v1alpha2';

const dns = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 253) || 'input';

/**
 * Renders one input as a Fluent Operator `ClusterInput` (fluentbit.fluent.io/v1alpha2). Options at
 * their defaults are left out so the operator's defaults apply; the input's tag goes where the CRD
 * has a field for it.
 *
 * @example
 * const { manifest } = renderClusterInput(loadConfig('collector.yaml').inputs[0]);
 */
export function renderClusterInput(
  input: InputConfig,
  opts: { name?: string; labels?: Record<string, string> } = {},
): RenderedInput {
  const entry = clusterInputFields[input.plugin.name];
  if (!entry)
    throw new CollectorError(
      'SPROUT_ERR_COLLECTOR_UNKNOWN_PLUGIN',
      `no ClusterInput mapping for ${input.plugin.name}`,
      input.id,
    );
  const [specKey, fields] = entry;
  const options = input.options as Obj;
  // Defaults of the plugin's keys (refinements such as "unix modes need a path" are not run).
  const schema = input.plugin.schema as unknown as { shape?: Record<string, never> };
  const defaults = (schema.shape ? z.object(schema.shape).parse({}) : {}) as Obj;
  const section: Obj = {};
  const dropped: string[] = [];
  const withTag = { ...options, ...(input.common.tag !== undefined ? { tag: input.common.tag } : {}) };
  for (const [key, value] of Object.entries(withTag)) {
    if (value === undefined) continue;
    const f = fields.find((x) => x.key === key);
    if (!f) {
      if (key !== 'tag' && JSON.stringify(value) !== JSON.stringify(defaults[key])) dropped.push(key);
      else if (key === 'tag') dropped.push('tag');
      continue;
    }
    // Defaults are left to the operator, except where ours differ from fluent-bit's (mqtt port,
    // nginx_plus): the port and nginx_plus are always written.
    const always = key === 'port' || key === 'nginx_plus';
    if (!always && key !== 'tag' && JSON.stringify(value) === JSON.stringify(defaults[key])) continue;
    const v = f.out ? f.out(value) : value;
    if (v !== undefined) section[f.crd] = v;
  }
  for (const k of ['mem_buf_limit', 'storage.type', 'ack'] as const) {
    const v = input.common[k];
    if (v !== undefined && v !== false && v !== 'memory') dropped.push(k);
  }
  const spec: Obj = { [specKey]: section };
  if (input.common.alias) spec.alias = input.common.alias;
  const manifest: Obj = {
    apiVersion: API,
    kind: 'ClusterInput',
    metadata: {
      name: dns(opts.name ?? input.id),
      labels: {
        'fluentbit.fluent.io/enabled': 'true',
        'fluentbit.fluent.io/mode': 'collector',
        ...opts.labels,
      },
    },
    spec,
  };
  return { manifest, dropped };
}

/**
 * Renders a Fluent Operator `Collector` (the fluent-bit StatefulSet) exposing every input's port,
 * with its buffer path when the config buffers to disk.
 */
export function renderCollector(
  config: CollectorConfig,
  opts: { name: string; namespace: string; image?: string },
): Obj {
  const ports = config.inputs
    .map((i) => {
      const o = i.options as { port?: number; mode?: string; unix_path?: string };
      if (
        typeof o.port !== 'number' ||
        o.port === 0 ||
        (i.plugin.name === 'syslog' && o.mode?.startsWith('unix')) ||
        (i.plugin.name === 'forward' && o.unix_path) ||
        i.plugin.name === 'nginx_metrics'
      )
        return undefined;
      const udp =
        i.plugin.name === 'statsd' ||
        i.plugin.name === 'collectd' ||
        (i.plugin.name === 'syslog' && o.mode === 'udp');
      return {
        name: dns(i.id).replace(/\./g, '-').slice(0, 15).replace(/-+$/, ''),
        containerPort: o.port,
        protocol: udp ? 'UDP' : 'TCP',
      };
    })
    .filter((p) => p !== undefined);
  const spec: Obj = { image: opts.image ?? 'ghcr.io/fluent/fluent-operator/fluent-bit:3.1.8' };
  if (config.service['storage.path']) spec.bufferPath = config.service['storage.path'];
  if (ports.length) spec.ports = ports;
  return {
    apiVersion: API,
    kind: 'Collector',
    metadata: { name: dns(opts.name), namespace: opts.namespace },
    spec,
  };
}

/** Every input as a ClusterInput plus the Collector, as one multi-document YAML list. */
export function renderManifests(
  config: CollectorConfig,
  opts: { name: string; namespace: string; image?: string },
): { manifests: Obj[]; dropped: Record<string, string[]> } {
  const dropped: Record<string, string[]> = {};
  const manifests = config.inputs.map((i) => {
    const r = renderClusterInput(i, { name: `${opts.name}-${i.id}` });
    if (r.dropped.length) dropped[i.id] = r.dropped;
    return r.manifest;
  });
  manifests.push(renderCollector(config, opts));
  return { manifests, dropped };
}

/**
 * Reads Fluent Operator ClusterInput manifests (multi-document YAML) as a collector config in
 * fluent-bit's layout, so an operator user can run their inputs locally. Records go to stdout
 * unless `outputs` is given. Other kinds are refused by name.
 */
export function clusterInputsToConfig(
  yamlText: string,
  outputs: Obj[] = [{ name: 'stdout', match: '*' }],
): Obj {
  const inputs: Obj[] = [];
  parseAllDocuments(yamlText).forEach((doc, i) => {
    const m = doc.toJS() as Obj | null;
    if (!m) return;
    const where = `document ${i + 1}`;
    if (m.apiVersion !== API || m.kind !== 'ClusterInput') {
      throw new CollectorError(
        'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
        `only ${API} ClusterInput is read, got ${String(m.apiVersion)} ${String(m.kind)}`,
        where,
      );
    }
    const spec = (m.spec ?? {}) as Obj;
    const found = Object.entries(clusterInputFields).filter(([, [k]]) => spec[k] !== undefined);
    if (found.length !== 1) {
      const known = Object.values(clusterInputFields).map(([k]) => k);
      throw new CollectorError(
        'SPROUT_ERR_COLLECTOR_UNKNOWN_PLUGIN',
        `spec must hold exactly one of ${known.join(', ')} (got ${Object.keys(spec).join(', ') || 'none'})`,
        `${where}.spec`,
      );
    }
    const [plugin, [specKey, fields]] = found[0]!;
    const entry: Obj = { name: plugin };
    for (const [k, v] of Object.entries(spec[specKey] as Obj)) {
      const f = fields.find((x) => x.crd === k);
      if (!f)
        throw new CollectorError(
          'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
          `unknown field '${k}'`,
          `${where}.spec.${specKey}.${k}`,
        );
      entry[f.key] = f.in ? f.in(v) : v;
    }
    if (typeof spec.alias === 'string') entry.alias = spec.alias;
    if (typeof spec.logLevel === 'string') entry.log_level = spec.logLevel;
    inputs.push(entry);
  });
  return { pipeline: { inputs, outputs } };
}
