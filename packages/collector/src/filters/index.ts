import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { CollectorError } from '../errors.js';
import { bool, many } from '../config/values.js';
import type { FilterPlugin } from '../plugin.js';
import type { CollectorRecord } from '../types.js';

/** `KEY VALUE` pairs as fluent-bit writes them (value may contain spaces). */
function pair(s: string, where: string): [string, string] {
  const i = s.search(/\s/);
  if (i < 0)
    throw new CollectorError(
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      `expected 'KEY VALUE', got '${s}'`,
      where,
    );
  return [s.slice(0, i), s.slice(i).trim()];
}

/** Reads `$a['b']` record accessors or plain keys. */
function getKey(body: Record<string, unknown>, key: string): unknown {
  if (!key.startsWith('$')) return body[key];
  const parts = [...key.slice(1).matchAll(/^[^[]+|\['([^']*)'\]|\["([^"]*)"\]/g)].map(
    (m) => m[1] ?? m[2] ?? m[0],
  );
  let v: unknown = body;
  for (const p of parts) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
  return v;
}

const asText = (v: unknown) => (typeof v === 'string' ? v : v === undefined ? undefined : JSON.stringify(v));

const grep: FilterPlugin = {
  name: 'grep',
  schema: z.strictObject({
    regex: many.optional(),
    exclude: many.optional(),
    logical_op: z.enum(['and', 'or', 'legacy']).default('legacy'),
  }),
  create(o: { regex?: string[]; exclude?: string[]; logical_op: string }) {
    const rules = [
      ...(o.regex ?? []).map((r) => ({ keep: true, ...rule(r, 'regex') })),
      ...(o.exclude ?? []).map((r) => ({ keep: false, ...rule(r, 'exclude') })),
    ];
    return (rec) => {
      const hits = rules.map((r) => {
        const v = asText(getKey(rec.body, r.key));
        return v !== undefined && r.re.test(v);
      });
      if (o.logical_op === 'or') return rules.some((r, i) => (r.keep ? hits[i] : !hits[i])) ? rec : null;
      // legacy and 'and': every regex must match and no exclude may match.
      return rules.every((r, i) => (r.keep ? hits[i] : !hits[i])) ? rec : null;
    };
  },
};

function rule(s: string, where: string) {
  const [key, pattern] = pair(s, where);
  try {
    return { key, re: new RegExp(pattern) };
  } catch (err) {
    throw new CollectorError(
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      `bad regular expression: ${(err as Error).message}`,
      where,
    );
  }
}

const modify: FilterPlugin = {
  name: 'modify',
  schema: z.strictObject({
    set: many.optional(),
    add: many.optional(),
    remove: many.optional(),
    remove_wildcard: many.optional(),
    rename: many.optional(),
    hard_rename: many.optional(),
    copy: many.optional(),
    hard_copy: many.optional(),
  }),
  create(o: Record<string, string[] | undefined>) {
    const ops: Array<(b: Record<string, unknown>) => void> = [];
    for (const s of o.set ?? []) {
      const [k, v] = pair(s, 'set');
      ops.push((b) => (b[k] = v));
    }
    for (const s of o.add ?? []) {
      const [k, v] = pair(s, 'add');
      ops.push((b) => void (k in b || (b[k] = v)));
    }
    for (const k of o.remove ?? []) ops.push((b) => delete b[k]);
    for (const p of o.remove_wildcard ?? [])
      ops.push((b) => Object.keys(b).forEach((k) => k.startsWith(p.replace(/\*$/, '')) && delete b[k]));
    for (const [list, hard] of [
      [o.rename, false],
      [o.hard_rename, true],
    ] as const) {
      for (const s of list ?? []) {
        const [from, to] = pair(s, hard ? 'hard_rename' : 'rename');
        ops.push((b) => {
          if (!(from in b) || (!hard && to in b)) return;
          b[to] = b[from];
          delete b[from];
        });
      }
    }
    for (const [list, hard] of [
      [o.copy, false],
      [o.hard_copy, true],
    ] as const) {
      for (const s of list ?? []) {
        const [from, to] = pair(s, hard ? 'hard_copy' : 'copy');
        ops.push((b) => void (from in b && (hard || !(to in b)) && (b[to] = structuredClone(b[from]))));
      }
    }
    return (rec) => {
      for (const op of ops) op(rec.body);
      return rec;
    };
  },
};

const recordModifier: FilterPlugin = {
  name: 'record_modifier',
  schema: z.strictObject({
    record: many.optional(),
    remove_key: many.optional(),
    allowlist_key: many.optional(),
    whitelist_key: many.optional(),
  }),
  create(o: {
    record?: string[];
    remove_key?: string[];
    allowlist_key?: string[];
    whitelist_key?: string[];
  }) {
    const add = (o.record ?? []).map((s) => pair(s, 'record'));
    const allow = [...(o.allowlist_key ?? []), ...(o.whitelist_key ?? [])];
    return (rec) => {
      for (const [k, v] of add) rec.body[k] = v;
      for (const k of o.remove_key ?? []) delete rec.body[k];
      if (allow.length) for (const k of Object.keys(rec.body)) if (!allow.includes(k)) delete rec.body[k];
      return rec;
    };
  },
};

const parserFilter: FilterPlugin = {
  name: 'parser',
  schema: z.strictObject({
    key_name: z.string(),
    parser: many,
    reserve_data: bool.default(false),
    preserve_key: bool.default(false),
  }),
  create(o: { key_name: string; parser: string[]; reserve_data: boolean; preserve_key: boolean }, ctx) {
    const parsers = o.parser.map((name) => {
      const p = ctx.parsers.get(name);
      if (!p)
        throw new CollectorError(
          'SPROUT_ERR_COLLECTOR_UNKNOWN_PLUGIN',
          `no parser named '${name}' (known: ${[...ctx.parsers.keys()].join(', ')})`,
          'parser',
        );
      return p;
    });
    return (rec) => {
      const raw = rec.body[o.key_name];
      if (typeof raw !== 'string') return rec;
      for (const p of parsers) {
        const out = p.parse(raw);
        if (!out) continue;
        const body = o.reserve_data ? { ...rec.body, ...out.body } : { ...out.body };
        if (o.reserve_data && !o.preserve_key) delete body[o.key_name];
        if (o.preserve_key) body[o.key_name] = raw;
        return { ...rec, body, time: out.time ?? rec.time };
      }
      return rec;
    };
  },
};

/**
 * `javascript`: the Lua filter's counterpart. `script` is an ES module or CommonJS file, `call` the
 * exported function's name; it gets `(tag, timeNs, body)` and returns a body, an array of bodies,
 * or null to drop the record.
 */
const javascript: FilterPlugin = {
  name: 'javascript',
  schema: z.strictObject({ script: z.string(), call: z.string() }),
  create(o: { script: string; call: string }, ctx) {
    const path = resolve(ctx.baseDir, o.script);
    let mod: Record<string, unknown>;
    try {
      mod = createRequire(import.meta.url)(path) as Record<string, unknown>;
    } catch (err) {
      throw new CollectorError(
        'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
        `cannot load ${o.script}: ${(err as Error).message}`,
        'script',
      );
    }
    const fn = mod[o.call];
    if (typeof fn !== 'function')
      throw new CollectorError(
        'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
        `${o.script} exports no function '${o.call}'`,
        'call',
      );
    return (rec) => {
      const out = (fn as (t: string, ns: bigint, b: Record<string, unknown>) => unknown)(
        rec.tag,
        rec.time,
        rec.body,
      );
      if (out === null || out === undefined) return null;
      const one = (b: unknown): CollectorRecord => ({ ...rec, body: b as Record<string, unknown> });
      return Array.isArray(out) ? out.map(one) : one(out);
    };
  },
};

export const filterPlugins: FilterPlugin[] = [grep, modify, recordModifier, parserFilter, javascript];
