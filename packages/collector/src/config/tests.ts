import { isDeepStrictEqual } from 'node:util';
import { createLogger } from '@sprout/observe';
import { createCollector } from '../engine/collector.js';
import { builtinParsers } from '../parsers/text.js';
import type { CollectorRecord } from '../types.js';
import type { CollectorConfig } from './load.js';

export interface ConfigTestResult {
  name: string;
  ok: boolean;
  /** One line per difference: output, index, expected and actual body. */
  diffs: string[];
}

/**
 * Runs the config's `tests:`: each test's records (or raw `lines` read with `parser`) go through
 * the configured filters and routing with a capturing stand-in for every output; each output named
 * under `expect` must receive exactly those bodies, in order. Outputs not named are not checked.
 *
 * @example
 * const results = await runConfigTests(loadConfig('collector.yaml'));
 */
export async function runConfigTests(config: CollectorConfig): Promise<ConfigTestResult[]> {
  const results: ConfigTestResult[] = [];
  const parsers = new Map(builtinParsers());
  for (const p of config.parsers) parsers.set(p.name, p);
  for (const t of config.tests) {
    const got = new Map<string, CollectorRecord[]>();
    const c = createCollector(
      { ...config, service: { ...config.service, flush: 0, 'storage.path': undefined }, inputs: [] },
      {
        logger: createLogger({ level: 'silent' }),
        withoutInputs: true,
        outputOverride: (id) => ({ write: async (rs) => void got.set(id, [...(got.get(id) ?? []), ...rs]) }),
      },
    );
    const diffs: string[] = [];
    try {
      await c.start();
      const records = [...(t.input.records ?? []).map((body) => ({ tag: t.input.tag, body }))];
      for (const line of t.input.lines ?? []) {
        const parser = t.input.parser ? parsers.get(t.input.parser) : undefined;
        if (t.input.parser && !parser) {
          diffs.push(`input: no parser named '${t.input.parser}'`);
          break;
        }
        const parsed = parser ? parser.parse(line) : { body: { log: line } };
        if (!parsed) diffs.push(`input: parser '${t.input.parser}' cannot read ${JSON.stringify(line)}`);
        else records.push({ tag: t.input.tag, body: parsed.body });
      }
      if (records.length) await c.push(records);
      await c.flush(5000);
      for (const [output, want] of Object.entries(t.expect)) {
        if (!config.outputs.some((o) => o.id === output)) {
          diffs.push(
            `expect: no output '${output}' (outputs: ${config.outputs.map((o) => o.id).join(', ')})`,
          );
          continue;
        }
        const have = (got.get(output) ?? []).map((r) => r.body);
        for (let i = 0; i < Math.max(want.length, have.length); i++) {
          if (!isDeepStrictEqual(toJson(have[i]), want[i])) {
            diffs.push(
              `${output}[${i}]: expected ${JSON.stringify(want[i]) ?? 'nothing'}, got ${JSON.stringify(toJson(have[i])) ?? 'nothing'}`,
            );
          }
        }
      }
    } finally {
      await c.close();
    }
    results.push({ name: t.name, ok: diffs.length === 0, diffs });
  }
  return results;
}

/** Compares as YAML would load it (bigint → string, undefined dropped). */
function toJson(v: unknown): unknown {
  return v === undefined
    ? undefined
    : JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)));
}
