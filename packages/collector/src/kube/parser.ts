import type { CollectorConfig } from '../config/load.js';
import type { ParserSpec } from '../parsers/text.js';
import { API, PIPELINE_LABEL, notRenderable, type Obj } from './common.js';

/**
 * Built-in parsers here that Fluent Operator's fluent-bit image does not define in its
 * `/fluent-bit/etc/parsers.conf` (it does define json and the syslog-rfc* ones): a config that
 * uses one gets a ClusterParser of that name.
 */
const NOT_IN_IMAGE: Record<string, ParserSpec['format']> = { logfmt: 'logfmt' };

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function renderParser(spec: ParserSpec, pipeline: string, field: string): Obj {
  // fluent-bit knows a parser by the ClusterParser's name, so the name cannot be adjusted.
  if (!NAME.test(spec.name))
    throw notRenderable(
      `parser name '${spec.name}' is not a Kubernetes object name (lower-case letters, digits, '-' and '.'); a ClusterParser is named after its parser, so rename it`,
      field,
    );
  const body: Obj = {};
  if (spec.format === 'regex') body.regex = spec.regex;
  if (spec.time_key !== undefined) body.timeKey = spec.time_key;
  if (spec.time_format !== undefined) body.timeFormat = spec.time_format;
  if (spec.time_keep) body.timeKeep = true;
  return {
    apiVersion: API,
    kind: 'ClusterParser',
    metadata: { name: spec.name, labels: { [PIPELINE_LABEL]: pipeline } },
    spec: { [spec.format]: body },
  };
}

/** Parser names the config's inputs and parser filters refer to. */
function referenced(config: CollectorConfig): Set<string> {
  const names = new Set<string>();
  for (const i of config.inputs) {
    const p = (i.options as { parser?: unknown }).parser;
    if (typeof p === 'string') names.add(p);
  }
  for (const f of config.filters)
    if (f.plugin.name === 'parser') for (const p of (f.options as { parser: string[] }).parser) names.add(p);
  return names;
}

/**
 * A ClusterParser for every parser the config defines, plus the built-in ones it uses that
 * fluent-bit's image lacks. ClusterParsers are cluster-wide and named after their parser.
 */
export function renderClusterParsers(config: CollectorConfig, pipeline: string): Obj[] {
  const out = config.parserSpecs.map((s, i) => renderParser(s, pipeline, `parsers[${i}].name`));
  const defined = new Set(config.parserSpecs.map((s) => s.name));
  for (const name of referenced(config)) {
    const format = NOT_IN_IMAGE[name];
    if (format && !defined.has(name)) out.push(renderParser({ name, format }, pipeline, name));
  }
  return out;
}
