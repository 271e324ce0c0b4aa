import { parseAllDocuments } from 'yaml';
import type { CollectorConfig } from '../config/load.js';
import { CollectorError } from '../errors.js';
import { renderCollector } from './collector.js';
import { API, dns, notRenderable, type Obj } from './common.js';
import { clusterInputFields } from './fields.js';
import { renderClusterFilter } from './filter.js';
import { renderFluentBitConfig } from './fluentbit-config.js';
import { renderClusterInput } from './input.js';
import { renderClusterOutput } from './output.js';
import { renderClusterParsers } from './parser.js';

export interface RenderedPipeline {
  /** ClusterInputs, ClusterFilters, ClusterOutputs, ClusterParsers, the ClusterFluentBitConfig, the Collector. */
  manifests: Obj[];
  /** Input or output id → keys its ClusterInput or ClusterOutput cannot carry (left out, never silently). */
  dropped: Record<string, string[]>;
  /** What changed for the cluster or what to do there (listen → 0.0.0.0, a Secret to create), one line each. */
  notes: string[];
}

/**
 * The whole pipeline for Fluent Operator: a ClusterInput per input, a ClusterFilter per filter (in
 * order), a ClusterOutput per output, a ClusterParser per parser, a ClusterFluentBitConfig whose
 * selectors pick exactly these (label `sprout.dev/pipeline: <name>`), and the Collector running it.
 * What fluent-bit cannot run as this collector does is refused with
 * SPROUT_ERR_COLLECTOR_NOT_RENDERABLE, naming the filter, output or key.
 *
 * @example
 * const { manifests, dropped, notes } = renderManifests(loadConfig('collector.yaml'), { name: 'edge', namespace: 'logging' });
 */
export function renderManifests(
  config: CollectorConfig,
  opts: { name: string; namespace: string; image?: string },
): RenderedPipeline {
  const pipeline = dns(opts.name);
  if (pipeline.length > 63 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(pipeline))
    throw notRenderable(`'${opts.name}' cannot be a label value (at most 63 characters)`, 'name');
  const dropped: Record<string, string[]> = {};
  const notes: string[] = [];
  if (!config.inputs.length)
    notes.push(
      'the config has no inputs (records reach it in-process, as in sprout dev): in the cluster nothing feeds this pipeline until an input (forward, http, opentelemetry, ...) is added',
    );
  const objectName = (id: string) => `${opts.name}-${id}`;
  const manifests = config.inputs.map((i) => {
    const r = renderClusterInput(i, { name: objectName(i.id), pipeline });
    if (r.dropped.length) dropped[i.id] = r.dropped;
    notes.push(...r.notes);
    return r.manifest;
  });
  config.filters.forEach((f, ordinal) =>
    manifests.push(renderClusterFilter(f, { name: objectName(f.id), pipeline, ordinal })),
  );
  for (const o of config.outputs) {
    const r = renderClusterOutput(o, { name: objectName(o.id), pipeline, namespace: opts.namespace });
    if (r.dropped.length) dropped[o.id] = r.dropped;
    notes.push(...r.notes);
    manifests.push(r.manifest);
  }
  manifests.push(...renderClusterParsers(config, pipeline));
  const fbc = renderFluentBitConfig(config, { name: opts.name, pipeline });
  notes.push(...fbc.notes);
  manifests.push(fbc.manifest);
  manifests.push(renderCollector(config, opts));
  return { manifests, dropped, notes };
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
