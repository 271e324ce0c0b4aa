import type { InputConfig } from '../config/load.js';
import { CollectorError } from '../errors.js';
import { API, PIPELINE_LABEL, defaultsOf, dns, isLoopback, same, type Obj } from './common.js';
import { clusterInputFields } from './fields.js';

export interface RenderedInput {
  manifest: Obj;
  /** Keys set in the config that a ClusterInput cannot carry (they are left out, never silently). */
  dropped: string[];
  /** What was changed for the cluster (a listen address → 0.0.0.0), one line each. */
  notes: string[];
}

/** Addresses that already mean "every interface". */
const ANY = ['0.0.0.0', '::'];

/**
 * Renders one input as a Fluent Operator `ClusterInput` (fluentbit.fluent.io/v1alpha2). Options at
 * their defaults are left out so the operator's defaults apply; the input's tag goes where the CRD
 * has a field for it. A listen address other than 0.0.0.0 becomes 0.0.0.0 (inside a pod, a
 * loopback address is unreachable from other pods), and `notes` says so. With `pipeline` the object
 * carries only that pipeline's label; without it, the labels Fluent Operator's Helm chart selects.
 *
 * @example
 * const { manifest } = renderClusterInput(loadConfig('collector.yaml').inputs[0]);
 */
export function renderClusterInput(
  input: InputConfig,
  opts: { name?: string; labels?: Record<string, string>; pipeline?: string } = {},
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
  const defaults = defaultsOf(input.plugin.schema);
  const section: Obj = {};
  const dropped: string[] = [];
  const notes: string[] = [];
  const withTag = { ...options, ...(input.common.tag !== undefined ? { tag: input.common.tag } : {}) };
  for (const [key, value] of Object.entries(withTag)) {
    if (value === undefined) continue;
    const f = fields.find((x) => x.key === key);
    if (!f) {
      if (key !== 'tag' && !same(value, defaults[key])) dropped.push(key);
      else if (key === 'tag') dropped.push('tag');
      continue;
    }
    if (key === 'listen' && typeof value === 'string' && !ANY.includes(value)) {
      section[f.crd] = '0.0.0.0';
      notes.push(
        `${input.id}: listens on 0.0.0.0, not ${value}: ${
          isLoopback(value)
            ? 'a loopback address is unreachable from other pods'
            : "an address of this machine is not one of the pod's"
        }`,
      );
      continue;
    }
    // Defaults are left to the operator, except where ours differ from fluent-bit's (mqtt port,
    // nginx_plus): the port and nginx_plus are always written.
    const always = key === 'port' || key === 'nginx_plus';
    if (!always && key !== 'tag' && same(value, defaults[key])) continue;
    const v = f.out ? f.out(value) : value;
    if (v !== undefined) section[f.crd] = v;
  }
  const host = options.host;
  if (input.plugin.name === 'nginx_metrics' && typeof host === 'string' && isLoopback(host))
    notes.push(
      `${input.id}: scrapes ${host}, which in Kubernetes is the Collector pod itself: set host to nginx's Service`,
    );
  for (const k of ['mem_buf_limit', 'storage.type', 'ack'] as const) {
    const v = input.common[k];
    if (v !== undefined && v !== false && v !== 'memory') dropped.push(k);
  }
  const spec: Obj = { [specKey]: section };
  if (input.common.alias) spec.alias = input.common.alias;
  const labels = opts.pipeline
    ? { [PIPELINE_LABEL]: opts.pipeline, ...opts.labels }
    : { 'fluentbit.fluent.io/enabled': 'true', 'fluentbit.fluent.io/mode': 'collector', ...opts.labels };
  const manifest: Obj = {
    apiVersion: API,
    kind: 'ClusterInput',
    metadata: { name: dns(opts.name ?? input.id), labels },
    spec,
  };
  return { manifest, dropped, notes };
}
