import type { CollectorConfig } from '../config/load.js';
import { API, keyValue, meta, notRenderable, type Obj } from './common.js';

type FilterConfig = CollectorConfig['filters'][number];
type List = string[] | undefined;

/**
 * One config filter → the items of its ClusterFilter's `filters` list (Fluent Operator runs them
 * in order, each as a fluent-bit [FILTER] with the ClusterFilter's match). A filter, or an option,
 * that fluent-bit cannot run as it runs here is refused with SPROUT_ERR_COLLECTOR_NOT_RENDERABLE.
 */
const items: Record<string, (o: Obj, id: string) => Obj[]> = {
  // The CRD's grep holds one rule; rules that must all hold become a chain of greps.
  grep(o, id) {
    const rules = [
      ...((o.regex as List) ?? []).map((r) => ({ regex: r })),
      ...((o.exclude as List) ?? []).map((r) => ({ exclude: r })),
    ];
    if (!rules.length) throw notRenderable('grep has neither regex nor exclude: remove it', id);
    if (o.logical_op === 'or' && rules.length > 1)
      throw notRenderable(
        "logical_op 'or' over several rules has no Fluent Operator equivalent (its grep holds one rule); split the filter or use 'and'",
        `${id}.logical_op`,
      );
    return rules.map((r) => ({ grep: r }));
  },
  // One rule per operation, in the order this collector applies them (fluent-bit keeps rule order).
  modify(o, id) {
    const rules: Obj[] = [];
    const pairs = (key: string, crd: string) => {
      for (const s of (o[key] as List) ?? []) {
        const [k, v] = keyValue(s);
        rules.push({ [crd]: { [k]: v } });
      }
    };
    const plain = (key: string, crd: string) => {
      for (const k of (o[key] as List) ?? []) rules.push({ [crd]: k });
    };
    pairs('set', 'set');
    pairs('add', 'add');
    plain('remove', 'remove');
    plain('remove_wildcard', 'removeWildcard');
    pairs('rename', 'rename');
    pairs('hard_rename', 'hardRename');
    pairs('copy', 'copy');
    pairs('hard_copy', 'hardCopy');
    if (!rules.length) throw notRenderable('modify has no rules: remove it', id);
    return [{ modify: { rules } }];
  },
  record_modifier(o, id) {
    const item: Obj = {};
    for (const [key, crd] of [
      ['record', 'records'],
      ['remove_key', 'removeKeys'],
      ['allowlist_key', 'allowlistKeys'],
      ['whitelist_key', 'whitelistKeys'],
    ] as const) {
      const v = o[key] as List;
      if (v?.length) item[crd] = v;
    }
    if (!Object.keys(item).length) throw notRenderable('record_modifier has no rules: remove it', id);
    return [{ recordModifier: item }];
  },
  parser(o) {
    const item: Obj = { keyName: o.key_name, parser: (o.parser as string[]).join(',') };
    if (o.reserve_data) item.reserveData = true;
    if (o.preserve_key) item.preserveKey = true;
    return [{ parser: item }];
  },
  javascript(_o, id) {
    throw notRenderable(
      "javascript is Sprout's own filter: Fluent Operator has no equivalent (its scripting filter is lua). Leave it out of the config you render, or port the script to a lua ClusterFilter of your own",
      id,
    );
  },
};

/**
 * Renders one config filter as a Fluent Operator `ClusterFilter`; `ordinal` keeps the config's
 * order (the operator sorts ClusterFilters by ordinal, then name).
 */
export function renderClusterFilter(
  filter: FilterConfig,
  opts: { name: string; pipeline: string; ordinal: number },
): Obj {
  const make = items[filter.plugin.name];
  if (!make) throw notRenderable(`no ClusterFilter mapping for ${filter.plugin.name}`, filter.id);
  const list = make(filter.options as Obj, filter.id);
  const alias = filter.common.alias;
  if (alias)
    list.forEach((item, n) => {
      const [kind, body] = Object.entries(item)[0]!;
      item[kind] = { ...(body as Obj), alias: n ? `${alias}-${n}` : alias };
    });
  const spec: Obj = {};
  if (filter.common.match !== undefined) spec.match = filter.common.match;
  if (filter.common.match_regex !== undefined) spec.matchRegex = filter.common.match_regex;
  spec.filters = list;
  spec.ordinal = opts.ordinal;
  return { apiVersion: API, kind: 'ClusterFilter', metadata: meta(opts.name, opts.pipeline), spec };
}
