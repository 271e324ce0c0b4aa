import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createManifestValidator, loadCrds, vendoredCrdsDir } from '@sprout/kube';
import { seededRng, type Rng } from '@sprout/http/testing';
import { loadResources, parseResiliency, resiliencyBeside, SpecError } from './index.js';
import { parseYamlAll } from './yaml.js';

const fixtures = fileURLToPath(new URL('../test/fixtures/dapr-resiliency/', import.meta.url));
const read = (f: string) => readFileSync(join(fixtures, f), 'utf8');
const docOf = (f: string) => parse(read(f)) as Record<string, unknown>;

function refusal(f: () => unknown): SpecError {
  try {
    f();
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  }
  throw new Error('not refused');
}

/** Parses text as the resources loader does: with the locator, so messages carry file:line. */
function parseText(text: string, file = 'resiliency.yaml') {
  const [d] = parseYamlAll(text, file, 'SPROUT_ERR_SPEC_INVALID_RESILIENCY');
  return parseResiliency(d!.value, file, d!.at);
}

/** The property names of a CRD schema node, recursively, as dotted paths (`*` for a map's values). */
function fieldPaths(node: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  const props = node.properties as Record<string, Record<string, unknown>> | undefined;
  for (const [k, v] of Object.entries(props ?? {})) {
    out.push(prefix + k);
    out.push(...fieldPaths(v, `${prefix}${k}.`));
  }
  const extra = node.additionalProperties as Record<string, unknown> | undefined;
  if (extra && typeof extra === 'object') out.push(...fieldPaths(extra, `${prefix}*.`));
  return out;
}

describe('Dapr Resiliency documents', () => {
  it('the schema takes exactly the fields of the vendored upstream CRD', () => {
    const crd = loadCrds(vendoredCrdsDir()).get('dapr.io/v1alpha1/Resiliency');
    expect(crd).toBeDefined();
    const spec = (crd!.schema as { properties: { spec: Record<string, unknown> } }).properties.spec;
    const paths = fieldPaths(spec);
    // Every field upstream knows is read: a document using each of them parses (apps and actors are
    // then refused as unsupported, not as unknown).
    const everything = {
      apiVersion: 'dapr.io/v1alpha1',
      kind: 'Resiliency',
      metadata: { name: 'all' },
      spec: {
        policies: {
          timeouts: { t: '1s' },
          retries: {
            r: {
              policy: 'constant',
              duration: '1s',
              maxInterval: '2s',
              maxRetries: 1,
              matching: { httpStatusCodes: '500', gRPCStatusCodes: '14' },
            },
          },
          circuitBreakers: {
            c: { maxRequests: 1, interval: '1s', timeout: '1s', trip: 'consecutiveFailures > 1' },
          },
        },
        targets: {
          components: {
            x: {
              inbound: { timeout: 't', retry: 'r', circuitBreaker: 'c' },
              outbound: { timeout: 't', retry: 'r', circuitBreaker: 'c' },
            },
          },
        },
      },
    };
    const used = fieldPaths({
      properties: Object.fromEntries(Object.entries(everything.spec).map(([k, v]) => [k, toSchema(v)])),
    });
    const expected = paths.filter((p) => !p.startsWith('targets.apps') && !p.startsWith('targets.actors'));
    expect(used.sort()).toEqual(expected.sort());
    expect(parseResiliency(everything).components.x!.inbound).toEqual({
      timeout: 't',
      retry: 'r',
      circuitBreaker: 'c',
    });
    for (const kind of ['apps', 'actors'])
      expect(paths.some((p) => p.startsWith(`targets.${kind}.*.`))).toBe(true);
  });

  it('the fixtures are valid against the vendored CRD', () => {
    const validator = createManifestValidator(vendoredCrdsDir());
    for (const f of [
      'docs-complete-example.yaml',
      'docs-retries.yaml',
      'dapr-e2e-pubsub-resiliency.yaml',
      'dapr-testdata-resiliency.yaml',
    ])
      expect(validator.validate(docOf(f)).issues, f).toEqual([]);
  });

  it("loads the docs' complete example once its apps and actors targets are taken out; as written, they are refused with file and line", () => {
    const text = read('docs-complete-example.yaml');
    const e = refusal(() => parseText(text, 'docs-complete-example.yaml'));
    expect(e.code).toBe('SPROUT_ERR_SPEC_UNSUPPORTED_FIELD');
    expect(e.field).toBe('spec.targets.apps.appB');
    expect(e.message).toMatch(/^docs-complete-example\.yaml:63: .*service invocation/);
    const doc = docOf('docs-complete-example.yaml') as { spec: { targets: Record<string, unknown> } };
    const e2 = refusal(() =>
      parseResiliency({ ...doc, spec: { ...doc.spec, targets: { ...doc.spec.targets, apps: {} } } }),
    );
    expect(e2.field).toBe('spec.targets.actors.myActorType');
    delete doc.spec.targets.apps;
    delete doc.spec.targets.actors;
    const r = parseResiliency(doc, 'complete');
    expect(r.scopes).toEqual(['app1', 'app2']);
    expect(r.timeouts).toEqual({ general: 5000, important: 60_000, largeResponse: 10_000 });
    expect(r.retries.retryForever).toEqual({ policy: 'exponential', maxIntervalMs: 15_000, maxRetries: -1 });
    expect(r.retries.someOperation).toEqual({ policy: 'exponential', maxIntervalMs: 15_000 });
    expect(r.circuitBreakers.simpleCB).toEqual({
      maxRequests: 1,
      timeoutMs: 30_000,
      trip: { counter: 'consecutiveFailures', above: 4 },
    });
    expect(r.circuitBreakers.pubsubCB).toEqual({
      maxRequests: 1,
      intervalMs: 8000,
      timeoutMs: 45_000,
      trip: { counter: 'consecutiveFailures', above: 8 },
    });
    expect(r.components.pubsub2).toEqual({
      outbound: { retry: 'pubsubRetry', circuitBreaker: 'pubsubCB' },
      inbound: { timeout: 'general', retry: 'important', circuitBreaker: 'pubsubCB' },
    });
  });

  it("refuses the default-policies page's example where it targets a component without inbound/outbound (daprd would ignore the keys)", () => {
    const e = refusal(() => parseText(read('docs-default-policies.yaml'), 'docs-default-policies.yaml'));
    expect(e.code).toBe('SPROUT_ERR_SPEC_INVALID_RESILIENCY');
    expect(e.field).toBe('spec.targets.components.actorstore.retry');
    expect(e.message).toMatch(/^docs-default-policies\.yaml:64: /);
    const doc = docOf('docs-default-policies.yaml') as { spec: { targets: unknown } };
    const r = parseResiliency({ ...doc, spec: { ...doc.spec, targets: {} } });
    expect(r.retries.DefaultComponentInboundRetryPolicy).toEqual({
      policy: 'constant',
      durationMs: 5000,
      maxRetries: 5,
    });
  });

  it('reads retry matching as code ranges, and the upstream e2e and testdata files', () => {
    const r = parseText(read('docs-retries.yaml'));
    expect(r.retries.retry5xxOnly).toEqual({
      policy: 'constant',
      durationMs: 5000,
      maxRetries: 3,
      httpStatusCodes: [
        [429, 429],
        [500, 599],
      ],
      grpcStatusCodes: [
        [1, 4],
        [8, 11],
        [13, 13],
        [14, 14],
      ],
    });
    const e2e = parseText(read('dapr-e2e-pubsub-resiliency.yaml'));
    expect(e2e.components).toEqual({ messagebus: { inbound: { retry: 'pubsubRetry' } } });
    expect(e2e.retries.pubsubRetry).toEqual({ policy: 'constant', durationMs: 1000, maxRetries: 5 });
    const testdata = refusal(() => parseText(read('dapr-testdata-resiliency.yaml'), 't.yaml'));
    expect(testdata.field).toBe('spec.targets.apps.appB');
  });

  it('refuses each malformed or unsupported value naming file, line and field', () => {
    const cases: [string, string, string][] = [
      ['timeouts:\n      t: soon', 'spec.policies.timeouts.t', 'SPROUT_ERR_SPEC_INVALID_RESILIENCY'],
      [
        'retries:\n      r:\n        policy: linear',
        'spec.policies.retries.r.policy',
        'SPROUT_ERR_SPEC_INVALID_RESILIENCY',
      ],
      [
        'retries:\n      r:\n        maxRetries: -2',
        'spec.policies.retries.r.maxRetries',
        'SPROUT_ERR_SPEC_INVALID_RESILIENCY',
      ],
      [
        'retries:\n      r:\n        duration: 5x',
        'spec.policies.retries.r.duration',
        'SPROUT_ERR_SPEC_INVALID_RESILIENCY',
      ],
      [
        'retries:\n      r:\n        matching:\n          httpStatusCodes: "600"',
        'spec.policies.retries.r.matching.httpStatusCodes',
        'SPROUT_ERR_SPEC_INVALID_RESILIENCY',
      ],
      [
        'retries:\n      r:\n        matching:\n          gRPCStatusCodes: "1-2-3"',
        'spec.policies.retries.r.matching.gRPCStatusCodes',
        'SPROUT_ERR_SPEC_INVALID_RESILIENCY',
      ],
      [
        'circuitBreakers:\n      c:\n        trip: consecutiveFailures > 2 && requests > 5',
        'spec.policies.circuitBreakers.c.trip',
        'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
      ],
      [
        'circuitBreakers:\n      c:\n        trip: failureRatio > 0.5',
        'spec.policies.circuitBreakers.c.trip',
        'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
      ],
      [
        'circuitBreakers:\n      c:\n        interval: often',
        'spec.policies.circuitBreakers.c.interval',
        'SPROUT_ERR_SPEC_INVALID_RESILIENCY',
      ],
      [
        'circuitBreakers:\n      c:\n        maxRequests: "1"',
        'spec.policies.circuitBreakers.c.maxRequests',
        'SPROUT_ERR_SPEC_INVALID_RESILIENCY',
      ],
      [
        'retries:\n      r:\n        jitter: true',
        'spec.policies.retries.r.jitter',
        'SPROUT_ERR_SPEC_INVALID_RESILIENCY',
      ],
    ];
    for (const [policies, field, code] of cases) {
      const text = `apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: x\nspec:\n  policies:\n    ${policies}\n  targets: {}\n`;
      const e = refusal(() => parseText(text, 'r.yaml'));
      expect([e.code, e.field], policies).toEqual([code, field]);
      expect(e.message, policies).toContain(`r.yaml:${6 + policies.split('\n').length}:`);
    }
    const target = refusal(() =>
      parseText(
        'apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: x\nspec:\n  policies: {}\n  targets:\n    components:\n      bus:\n        inbound:\n          retry: missing\n',
        'r.yaml',
      ),
    );
    expect([target.code, target.field]).toEqual([
      'SPROUT_ERR_SPEC_INVALID_RESILIENCY',
      'spec.targets.components.bus.inbound.retry',
    ]);
    expect(target.message).toMatch(/^r\.yaml:11: .*no retry policy named "missing"/);
  });

  it('takes durations as Dapr does (Go durations, a bare integer is milliseconds) and >= as the next >', () => {
    const r = parseResiliency({
      apiVersion: 'dapr.io/v1alpha1',
      kind: 'Resiliency',
      metadata: { name: 'x' },
      spec: {
        policies: {
          timeouts: { a: '1500', b: '1m30s', c: '250ms' },
          circuitBreakers: { c: { trip: 'totalFailures>=3' } },
        },
        targets: {},
      },
    });
    expect(r.timeouts).toEqual({ a: 1500, b: 90_000, c: 250 });
    expect(r.circuitBreakers.c!.trip).toEqual({ counter: 'totalFailures', above: 2 });
  });

  it('is read from a resources folder when asked, and from resiliency.yaml beside a function', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-resiliency-'));
    try {
      writeFileSync(join(dir, 'resiliency.yaml'), read('dapr-e2e-pubsub-resiliency.yaml'));
      expect(loadResources(dir).resiliencies).toBeUndefined();
      const { resiliencies } = loadResources(dir, { resiliency: true });
      expect(resiliencies?.map((r) => [r.name, r.source])).toEqual([['pubsubresiliency', 'resiliency.yaml']]);
      expect(resiliencyBeside(dir)?.map((r) => r.name)).toEqual(['pubsubresiliency']);
      writeFileSync(join(dir, 'resiliency.yaml'), read('docs-complete-example.yaml'));
      expect(refusal(() => loadResources(dir, { resiliency: true })).message).toMatch(
        /^resiliency\.yaml:63: /,
      );
      rmSync(join(dir, 'resiliency.yaml'));
      expect(resiliencyBeside(dir)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never throws anything but a SpecError on random documents (fuzz)', () => {
    const rng = seededRng();
    const base = docOf('docs-complete-example.yaml');
    const values = [null, 0, -3, 1.5, '', 'x', '5s', '>', true, [], {}, { a: 1 }, 'consecutiveFailures > 2'];
    const deadline = Date.now() + 1000;
    let n = 0;
    while (n <= 50 || Date.now() < deadline) {
      const doc = structuredClone(base);
      for (let k = 0; k < 3; k++) mutate(doc, rng, values);
      try {
        parseResiliency(doc);
      } catch (err) {
        expect(err, `seed ${rng.seed}`).toBeInstanceOf(SpecError);
      }
      n++;
    }
    expect(n).toBeGreaterThan(50);
  });
});

/** A CRD-like schema node for a plain value (maps under known map fields count as `*`). */
function toSchema(v: unknown, mapField = false): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
  const entries = Object.entries(v as Record<string, unknown>);
  const isMap = mapField;
  if (isMap) {
    const merged: Record<string, unknown> = {};
    for (const [, child] of entries) if (child && typeof child === 'object') Object.assign(merged, child);
    return { additionalProperties: toSchema(merged) };
  }
  const maps = new Set(['timeouts', 'retries', 'circuitBreakers', 'components']);
  return {
    properties: Object.fromEntries(entries.map(([k, child]) => [k, toSchema(child, maps.has(k))])),
  };
}

function mutate(doc: unknown, rng: Rng, values: unknown[]): void {
  let node = doc as Record<string, unknown>;
  for (let depth = 0; depth < 6; depth++) {
    const keys = Object.keys(node);
    if (!keys.length) break;
    const key = rng.pick(keys);
    const child = node[key];
    if (child && typeof child === 'object' && !Array.isArray(child) && rng.next() < 0.7) {
      node = child as Record<string, unknown>;
      continue;
    }
    node[key] = rng.pick(values);
    return;
  }
}
