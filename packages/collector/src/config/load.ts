import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { clusterInputsToConfig } from '../kube/render.js';
import type { z } from 'zod';
import { CollectorError } from '../errors.js';
import { createLogger } from '@sprout/observe';
import { buildParser, builtinParsers, type ParserSpec } from '../parsers/text.js';
import type { FilterFn, FilterPlugin, InputPlugin, OutputPlugin, Parser } from '../plugin.js';
import {
  filterCommon,
  inputCommon,
  outputCommon,
  parserSchema,
  serviceSchema,
  testSchema,
  type ConfigTest,
  type ServiceConfig,
} from './schema.js';
import { filterPlugins, inputPlugins, outputPlugins } from '../registry.js';

const silent = createLogger({ level: 'silent' });

export interface InputConfig {
  id: string;
  plugin: InputPlugin;
  common: z.output<typeof inputCommon>;
  options: unknown;
  /** The parser named by `parser` (or the plugin's default). */
  parser?: Parser;
}
interface OutputConfig {
  id: string;
  plugin: OutputPlugin;
  common: z.output<typeof outputCommon>;
  options: unknown;
}
interface FilterConfig {
  id: string;
  plugin: FilterPlugin;
  common: z.output<typeof filterCommon>;
  /** The plugin's own keys, validated and defaulted (what `sprout collector render` maps). */
  options: unknown;
  /** The filter, built while validating (so a bad rule fails `--dry-run`). */
  fn: FilterFn;
}

/** A validated collector config: every plugin resolved, every key checked and defaulted. */
export interface CollectorConfig {
  service: ServiceConfig;
  inputs: InputConfig[];
  filters: FilterConfig[];
  outputs: OutputConfig[];
  parsers: Parser[];
  /** The `parsers:` section as written, validated (what `sprout collector render` maps). */
  parserSpecs: ParserSpec[];
  tests: ConfigTest[];
  /** Folder relative paths resolve against. */
  baseDir: string;
}

/** Reads and validates a fluent-bit YAML config file. */
export function loadConfig(file: string): CollectorConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CollectorError(
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      `cannot read ${file}: ${(err as Error).message}`,
      undefined,
      { cause: err },
    );
  }
  return parseConfig(text, { baseDir: dirname(resolve(file)) });
}

/**
 * Parses fluent-bit's YAML layout (`service`, `pipeline.inputs|filters|outputs`, `parsers`, `env`)
 * plus Sprout's `tests`. Keys are case-insensitive as in fluent-bit; `${VAR}` reads `env:` then the
 * environment.
 *
 * @example
 * const cfg = parseConfig('pipeline:\n  inputs:\n    - name: tcp\n  outputs:\n    - name: stdout\n      match: "*"\n');
 */
export function parseConfig(
  text: string,
  opts: { baseDir?: string; env?: NodeJS.ProcessEnv } = {},
): CollectorConfig {
  // Fluent Operator ClusterInput manifests run as a config of their inputs (records to stdout).
  if (/^kind:\s*ClusterInput\s*$/m.test(text)) text = stringify(clusterInputsToConfig(text));
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const before = text.slice(0, e.pos[0]).split('\n');
    const at = `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
    throw new CollectorError('SPROUT_ERR_COLLECTOR_CONFIG_YAML', e.message.split('\n')[0]!, at);
  }
  const root = (doc.toJS() ?? {}) as Record<string, unknown>;
  if (typeof root !== 'object' || Array.isArray(root)) {
    throw new CollectorError(
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      'the config must be a mapping with service and pipeline',
      '/',
    );
  }
  for (const k of Object.keys(root)) {
    if (!['service', 'pipeline', 'parsers', 'env', 'tests'].includes(k)) {
      throw new CollectorError(
        'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
        `unknown section '${k}' (known: service, pipeline, parsers, env, tests)`,
        k,
      );
    }
  }
  const vars = { ...(opts.env ?? process.env), ...((root.env as Record<string, string> | undefined) ?? {}) };
  const sub = (v: unknown, where: string): unknown => {
    if (typeof v === 'string') {
      return v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
        const val = vars[name];
        if (val === undefined)
          throw new CollectorError(
            'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
            `\${${name}} is not set in env: or the environment`,
            where,
          );
        return String(val);
      });
    }
    if (Array.isArray(v)) return v.map((x, i) => sub(x, `${where}[${i}]`));
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sub(x, `${where}.${k}`)]));
    return v;
  };
  const service = check(serviceSchema, lower(sub(root.service ?? {}, 'service'), 'service'), 'service');
  const pipeline = (root.pipeline ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(pipeline)) {
    if (!['inputs', 'filters', 'outputs'].includes(k)) {
      throw new CollectorError(
        'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
        `unknown key '${k}' (known: inputs, filters, outputs)`,
        `pipeline.${k}`,
      );
    }
  }
  const section = (name: string): Record<string, unknown>[] => {
    const list = pipeline[name] ?? [];
    if (!Array.isArray(list))
      throw new CollectorError('SPROUT_ERR_COLLECTOR_CONFIG_INVALID', 'must be a list', `pipeline.${name}`);
    return list.map((x, i) => lower(sub(x, `pipeline.${name}[${i}]`), `pipeline.${name}[${i}]`));
  };

  const counters = new Map<string, number>();
  const idOf = (name: string, alias?: string) => {
    const n = counters.get(name) ?? 0;
    counters.set(name, n + 1);
    return alias ?? `${name}.${n}`;
  };

  const parsersRaw = root.parsers ?? [];
  if (!Array.isArray(parsersRaw))
    throw new CollectorError('SPROUT_ERR_COLLECTOR_CONFIG_INVALID', 'must be a list', 'parsers');
  const parserSpecs: ParserSpec[] = [];
  const parsers = parsersRaw.map((p, i) => {
    const spec = check(parserSchema, lower(sub(p, `parsers[${i}]`), `parsers[${i}]`), `parsers[${i}]`);
    if (spec.format === 'regex') {
      if (!spec.regex)
        throw new CollectorError(
          'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
          'format regex needs a regex',
          `parsers[${i}].regex`,
        );
      regexOk(spec.regex, `parsers[${i}].regex`);
    }
    parserSpecs.push(spec);
    return buildParser(spec);
  });
  const known = new Map<string, Parser>(builtinParsers());
  for (const p of parsers) known.set(p.name, p);
  const baseDir = opts.baseDir ?? process.cwd();
  const inputs = section('inputs').map((raw, i): InputConfig => {
    const where = `pipeline.inputs[${i}]`;
    const plugin = find(inputPlugins, raw, where);
    const [common, rest] = split(inputCommon, raw, where);
    const options = check(plugin.schema, rest, where);
    const parser = (options as { parser?: string }).parser;
    if (parser !== undefined && !known.has(parser)) {
      throw new CollectorError(
        'SPROUT_ERR_COLLECTOR_UNKNOWN_PLUGIN',
        `no parser named '${parser}' (known: ${[...known.keys()].join(', ')})`,
        `${where}.parser`,
      );
    }
    return {
      id: idOf(plugin.name, common.alias),
      plugin,
      common,
      options,
      ...(parser ? { parser: known.get(parser)! } : {}),
    };
  });
  const filters = section('filters').map((raw, i): FilterConfig => {
    const where = `pipeline.filters[${i}]`;
    const plugin = find(filterPlugins, raw, where);
    const [common, rest] = split(filterCommon, raw, where);
    needsMatch(common, where);
    const options = check(plugin.schema, rest, where);
    let fn: FilterFn;
    try {
      fn = plugin.create(options, { log: silent, parsers: known, baseDir });
    } catch (err) {
      if (err instanceof CollectorError) throw new CollectorError(err.code, err.message, where);
      throw err;
    }
    return { id: idOf(plugin.name, common.alias), plugin, common, options, fn };
  });
  const outputs = section('outputs').map((raw, i): OutputConfig => {
    const where = `pipeline.outputs[${i}]`;
    const plugin = find(outputPlugins, raw, where);
    const [common, rest] = split(outputCommon, raw, where);
    needsMatch(common, where);
    return {
      id: idOf(plugin.name, common.alias),
      plugin,
      common,
      options: check(plugin.schema, rest, where),
    };
  });
  const testsRaw = root.tests ?? [];
  if (!Array.isArray(testsRaw))
    throw new CollectorError('SPROUT_ERR_COLLECTOR_CONFIG_INVALID', 'must be a list', 'tests');
  const tests = testsRaw.map((t, i) => check(testSchema, t, `tests[${i}]`));
  return { service, inputs, filters, outputs, parsers, parserSpecs, tests, baseDir };
}

function lower(v: unknown, where: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    throw new CollectorError(
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      'must be a mapping of keys to values',
      where,
    );
  }
  // YAML reads a bare `name: null` as null; fluent-bit reads it as the null output's name.
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [
      k.toLowerCase(),
      k.toLowerCase() === 'name' && x === null ? 'null' : x,
    ]),
  );
}

function find<P extends { name: string; aliases?: string[] }>(
  list: P[],
  raw: Record<string, unknown>,
  where: string,
): P {
  const name = raw.name;
  if (typeof name !== 'string')
    throw new CollectorError(
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      'every plugin needs a name',
      `${where}.name`,
    );
  const p = list.find((x) => x.name === name || x.aliases?.includes(name));
  if (!p) {
    throw new CollectorError(
      'SPROUT_ERR_COLLECTOR_UNKNOWN_PLUGIN',
      `no plugin named '${name}' (known: ${list.map((x) => x.name).join(', ')})`,
      `${where}.name`,
    );
  }
  return p;
}

/** Splits the common keys (checked with `common`) from the plugin's own keys. */
function split<S extends z.ZodObject>(
  common: S,
  raw: Record<string, unknown>,
  where: string,
): [z.output<S>, Record<string, unknown>] {
  const keys = Object.keys(common.shape);
  const mine: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) (keys.includes(k) ? mine : rest)[k] = v;
  return [check(common, mine, where), rest];
}

function needsMatch(
  c: { match?: string | undefined; match_regex?: string | undefined },
  where: string,
): void {
  if (c.match === undefined && c.match_regex === undefined) {
    throw new CollectorError(
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      "needs 'match' or 'match_regex' (use match: '*' for every tag)",
      where,
    );
  }
  if (c.match_regex !== undefined) regexOk(c.match_regex, `${where}.match_regex`);
}

function regexOk(re: string, where: string): void {
  try {
    new RegExp(re);
  } catch (err) {
    throw new CollectorError(
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      `bad regular expression: ${(err as Error).message}`,
      where,
    );
  }
}

/** Validates with a zod schema and turns the first issue into an error naming the key. */
function check<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const path = [...issue.path, ...(keys.length === 1 ? keys : [])].map(String).join('.');
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}`
      : issue.message;
  throw new CollectorError('SPROUT_ERR_COLLECTOR_CONFIG_INVALID', message, path ? `${where}.${path}` : where);
}
