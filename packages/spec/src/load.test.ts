import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadFunctions, loadFunctionYaml } from './load.js';

const fixtures = fileURLToPath(new URL('../test/fixtures/', import.meta.url));

function yamlFile(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-platform-load-'));
  const file = join(dir, 'function.yaml');
  writeFileSync(file, body);
  return file;
}

const head = `apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: fn
`;

describe('loading functions', () => {
  it('takes a folder without function.yaml as a plain HTTP function with defaults', () => {
    const { functions, errors } = loadFunctions(['echo'], fixtures);
    expect(errors).toEqual([]);
    expect(functions).toHaveLength(1);
    expect(functions[0]).toMatchObject({
      name: 'echo',
      engine: 'knative',
      routes: [],
      scaling: { minReplicas: 0, maxReplicas: 10, targetConcurrency: 100, scaledownPeriodMs: 300_000 },
      readinessTimeoutMs: 20_000,
    });
    expect(functions[0]!.file).toBeUndefined();
  });

  it('reads the namespace and the EIP annotations, refusing bad values with the field named', () => {
    const fn = loadFunctionYaml(
      yamlFile(`apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: fn
  namespace: shop
  annotations:
    eip.openelb.kubesphere.io/v1alpha2: web-pool
    eip.openelb.kubesphere.io/v1alpha1: 127.0.31.9
    sprout.dev/expose: 'true'
spec: { version: v1.0.0 }
`),
    );
    expect(fn).toMatchObject({
      namespace: 'shop',
      expose: { enabled: true, pool: 'web-pool', ip: '127.0.31.9' },
    });
    expect(loadFunctions(['echo'], fixtures).functions[0]).toMatchObject({
      namespace: 'default',
      expose: { enabled: true },
    });
    const bad = (meta: string) => () =>
      loadFunctionYaml(yamlFile(`${head}${meta}spec: { version: v1.0.0 }\n`));
    expect(bad("  annotations:\n    sprout.dev/expose: 'no'\n")).toThrow(
      /function\.yaml:6: .*sprout\.dev\/expose.*"true" or "false"/,
    );
    expect(bad("  annotations:\n    eip.openelb.kubesphere.io/v1alpha2: ' '\n")).toThrow(
      /eip\.openelb\.kubesphere\.io\/v1alpha2": must not be empty/,
    );
    expect(bad('  namespace: Not_A_Label\n')).toThrow(/metadata\.namespace.*DNS-1123/);
  });

  it('reads OpenFunction fields and sprout.dev annotations from function.yaml', () => {
    const def = loadFunctionYaml(join(fixtures, 'greeter/function.yaml'));
    expect(def).toMatchObject({
      name: 'greeter',
      engine: 'keda',
      target: 'greet',
      env: { GREETING: 'Howdy', FUNCTION_TARGET: 'greet' },
      routes: [{ hosts: ['greeter.local'], pathPrefix: '/greet' }],
      scaling: {
        minReplicas: 0,
        maxReplicas: 3,
        metric: 'both',
        targetConcurrency: 5,
        targetRate: 50,
        scaledownPeriodMs: 60_000,
      },
      readinessTimeoutMs: 15_000,
      context: { name: 'greeter', version: 'v1.2.0', runtime: 'knative', port: '8080' },
    });
  });

  it('refuses a field that would change behaviour, naming file, line and field', () => {
    const file = join(fixtures, 'bad-yaml/function.yaml');
    expect(() => loadFunctionYaml(file)).toThrow(
      expect.objectContaining({
        code: 'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
        message: expect.stringContaining(`${file}:11: field "spec.serving.triggers.http.rewrite"`),
      }),
    );
  });

  it.each([
    [
      `${head}spec:\n  serving:\n    scaleOptions:\n      maxReplicas: many\n`,
      'SPROUT_ERR_SPEC_INVALID_FUNCTION',
      /:8: field "spec.serving.scaleOptions.maxReplicas"/,
    ],
    [
      `${head}  annotations:\n    sprout.dev/rate-window: soon\nspec: {}\n`,
      'SPROUT_ERR_SPEC_INVALID_FUNCTION',
      /:6: field "metadata.annotations.sprout.dev\/rate-window": not a duration/,
    ],
    [
      `${head}  annotations:\n    sprout.dev/turbo: "on"\nspec: {}\n`,
      'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
      /:6: annotation "sprout.dev\/turbo" is not one Sprout knows/,
    ],
    [
      `${head}spec:\n  serving:\n    triggers:\n      dapr:\n        - name: kafka\n          type: bindings.kafka\n`,
      'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
      /:10: field "spec.serving.triggers.dapr.0.type": component type "bindings.kafka" has no local engine/,
    ],
    [
      `${head}spec:\n  serving:\n    scaleOptions:\n      minReplicas: 4\n      maxReplicas: 2\n`,
      'SPROUT_ERR_SPEC_INVALID_FUNCTION',
      /:8: field "spec.serving.scaleOptions.minReplicas": greater than maxReplicas/,
    ],
    [
      `${head}spec:\n  serving:\n    triggers:\n      http:\n        route:\n          rules:\n            - matches:\n                - path: { type: RegularExpression, value: /x }\n`,
      'SPROUT_ERR_SPEC_INVALID_FUNCTION',
      /:12: field "spec.serving.triggers.http.route.rules.0.matches.0.path.type": only PathPrefix/,
    ],
    [`${head}spec: [oops\n`, 'SPROUT_ERR_SPEC_INVALID_FUNCTION', /function.yaml:6: /],
    [
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n`,
      'SPROUT_ERR_SPEC_INVALID_FUNCTION',
      /:1: apiVersion\/kind must be/,
    ],
    [
      `apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: Not_A_Label\nspec: {}\n`,
      'SPROUT_ERR_SPEC_INVALID_FUNCTION',
      /:4: field "metadata.name": must be a DNS-1123 label/,
    ],
  ])('refuses bad input %#', (text, code, message) => {
    const file = yamlFile(text);
    let err: { code?: string; message?: string } = {};
    try {
      loadFunctionYaml(file);
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    expect(err.message).toContain(file);
  });

  it('keeps loading the other functions when one file is bad, and refuses duplicate names', () => {
    const { functions, errors } = loadFunctions(
      ['echo', 'bad-yaml', 'greeter', 'greeter/function.yaml'],
      fixtures,
    );
    expect(functions.map((f) => f.name)).toEqual(['echo', 'greeter']);
    expect(errors.map((e) => e.code)).toEqual([
      'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
      'SPROUT_ERR_SPEC_DUPLICATE_FUNCTION',
    ]);
  });

  it('searches a folder of function folders one level down', () => {
    const root = mkdtempSync(join(tmpdir(), 'sprout-platform-scan-'));
    for (const n of ['a', 'b']) {
      mkdirSync(join(root, n));
      writeFileSync(join(root, n, 'index.js'), 'export const f = () => 1;');
    }
    mkdirSync(join(root, 'empty'));
    const { functions, errors } = loadFunctions([root, join(root, 'empty'), join(root, 'missing')], '/');
    expect(functions.map((f) => f.name)).toEqual(['a', 'b']);
    expect(errors.map((e) => e.code)).toEqual(['SPROUT_ERR_SPEC_NO_FUNCTION', 'SPROUT_ERR_SPEC_NO_FUNCTION']);
  });
});
