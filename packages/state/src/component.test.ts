import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { componentOf, resolveFunctionText, resolveMetadata } from '@sprout/spec';
import { componentForRef, loadComponents, resolveEngineSettings } from './component.js';

/** The Components a Function's `serving.states` block defines (read by @sprout/spec). */
const componentsFromFunctionStates = (states: Record<string, { spec: object }>) =>
  Object.entries(states).map(([name, s]) => componentOf(name, s.spec, `states.${name}`));

const dirs: string[] = [];
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-state-components-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const redis = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.redis
  version: v1
  metadata:
    - name: redisHost
      value: localhost:6379
    - name: redisPassword
      secretKeyRef:
        name: REDIS_PASSWORD
        key: REDIS_PASSWORD
    - name: keyPrefix
      value: name
`;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && code.startsWith('SPROUT_ERR_')
      ? `${code}: ${(err as Error).message}`
      : `not a coded error: ${String(err)}`;
  }
  return undefined;
}

describe('loadComponents', () => {
  it('reads state components from every YAML file, skipping other kinds and types', () => {
    const dir = folder({
      'statestore.yaml': redis,
      'more.yml': `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: local }
spec: { type: state.sqlite, version: v1, metadata: [] }
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: pubsub }
spec: { type: pubsub.redis, version: v1, metadata: [] }
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: { name: sub }
`,
      'notes.txt': 'not yaml',
    });
    const list = loadComponents(dir, { env: { REDIS_PASSWORD: 's3cret' } });
    expect(list.map((c) => [c.metadata.name, c.spec.type, c.source])).toEqual([
      ['local', 'state.sqlite', 'more.yml:2'], // a document of a multi-document file: file:line
      ['statestore', 'state.redis', 'statestore.yaml'],
    ]);
    expect(resolveMetadata(list[1]!, { REDIS_PASSWORD: 's3cret' })).toEqual({
      redisHost: 'localhost:6379',
      redisPassword: 's3cret',
      keyPrefix: 'name',
    });
  });

  it('skips components scoped to other apps', () => {
    const dir = folder({ 'a.yaml': `${redis}scopes: [billing]\n` });
    expect(loadComponents(dir, { appId: 'orders', env: { REDIS_PASSWORD: 'x' } })).toEqual([]);
    expect(loadComponents(dir, { appId: 'billing', env: { REDIS_PASSWORD: 'x' } })).toHaveLength(1);
  });

  it.each([
    ['invalid YAML', { 'a.yaml': 'kind: Component\nspec: [unclosed' }, /a\.yaml:\d+: invalid YAML/],
    [
      'a missing type',
      {
        'a.yaml': 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: s}\nspec: {version: v1}\n',
      },
      /spec\.type/,
    ],
    [
      'an unsupported engine',
      { 'a.yaml': redis.replace('state.redis', 'state.mongodb') },
      /state\.mongodb" is not run locally/,
    ],
    [
      'a documented value Sprout cannot honour',
      { 'a.yaml': `${redis}    - name: failover\n      value: "true"\n` },
      /a\.yaml:18: spec\.metadata "failover" is "true", which Sprout cannot honour/,
    ],
    [
      'a redisPort that differs from redisHost',
      { 'a.yaml': `${redis}    - name: redisPort\n      value: "6380"\n` },
      /"redisPort" 6380 differs/,
    ],
    ['a bad host', { 'a.yaml': redis.replace('localhost:6379', 'localhost:abc') }, /must be host:port/],
    ['a bad name', { 'a.yaml': redis.replace('name: statestore', 'name: State_Store') }, /metadata\.name/],
    ['a missing secret', { 'a.yaml': redis }, /SPROUT_ERR_SPEC_SECRET_MISSING: .*REDIS_PASSWORD/],
    ['a duplicate name', { 'a.yaml': redis, 'b.yaml': redis }, /already used in a\.yaml/],
    ['an unknown field', { 'a.yaml': redis.replace('spec:', 'specs: {}\nspec:') }, /specs/],
    ['a missing folder', null, /cannot read resources folder/],
  ])('refuses %s with a coded error naming the file and field', (_name, files, message) => {
    const dir = files ? folder(files) : join(tmpdir(), 'sprout-no-such-folder');
    const env = _name === 'a missing secret' ? {} : { REDIS_PASSWORD: 'x' };
    const got = codeOf(() => loadComponents(dir, { env }));
    expect(got).toMatch(/^SPROUT_ERR_(STATE|SPEC)_/);
    expect(got).toMatch(message);
  });

  it('never throws anything but a coded error (state or spec) on corrupted files (time-boxed fuzz)', () => {
    let seed = 3;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const deadline = Date.now() + 700;
    let refused = 0;
    let runs = 0;
    while (runs <= 10 || Date.now() < deadline) {
      const cut = rnd(redis.length);
      const text = redis.slice(0, cut) + ':-[{"\n\t '[rnd(9)] + redis.slice(cut + rnd(4));
      const dir = folder({ 'c.yaml': text });
      const got = codeOf(() => loadComponents(dir, { env: { REDIS_PASSWORD: 'x' } }));
      if (got) {
        expect(got).toMatch(/^SPROUT_ERR_(STATE|SPEC)_/);
        refused++;
      }
      rmSync(dir, { recursive: true, force: true });
      runs++;
    }
    expect(runs).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(0);
  });
});

describe('engine settings', () => {
  const doc = (type: string, md: Record<string, string>) =>
    componentsFromFunctionStates({
      s: { spec: { type, metadata: Object.entries(md).map(([name, value]) => ({ name, value })) } },
    })[0]!;

  it('reads Dapr metadata into typed settings with defaults', () => {
    expect(
      resolveEngineSettings(
        doc('state.sqlite', { connectionString: 'file:orders.db?_pragma=x', cleanupInterval: '10m' }),
      ),
    ).toEqual({
      type: 'state.sqlite',
      file: 'orders.db',
      table: 'state',
      busyTimeoutMs: 5000,
      cleanupIntervalMs: 600_000,
      disableWal: false,
      synchronous: 'FULL',
    });
    expect(
      resolveEngineSettings(
        doc('state.postgresql', {
          connectionString: 'postgres://x',
          cleanupIntervalInSeconds: '30',
          tableName: 'app.state',
        }),
      ),
    ).toMatchObject({
      table: 'app.state',
      cleanupIntervalMs: 30_000,
      timeoutMs: 20_000,
    });
    expect(
      resolveEngineSettings(doc('state.redis', { redisHost: 'h:1', enableTLS: 'TRUE', redisDB: '2' })),
    ).toMatchObject({ tls: true, db: 2 });
  });

  it.each([
    ['state.sqlite', { tableName: 'x; DROP TABLE y' }, /tableName/],
    ['state.sqlite', { disableWAL: 'yes' }, /true or false/],
    ['state.sqlite', { cleanupInterval: 'soon' }, /duration/],
    ['state.postgresql', {}, /connectionString" is required/],
    ['state.redis', { redisHost: 'h:1', redisDB: '-1' }, /whole number/],
  ])('%s %j is refused', (type, md, message) => {
    expect(codeOf(() => resolveEngineSettings(doc(type, md as Record<string, string>)))).toMatch(message);
  });

  it('reads envRef values from the environment', () => {
    const c = componentsFromFunctionStates({
      s: { spec: { type: 'state.redis', metadata: [{ name: 'redisHost', envRef: 'MY_REDIS' }] } },
    })[0]!;
    expect(resolveEngineSettings(c, { MY_REDIS: 'cache:6380' })).toMatchObject({ host: 'cache:6380' });
  });
});

describe('componentForRef (a FUNC_CONTEXT states entry)', () => {
  const loaded = componentsFromFunctionStates({
    cache: { spec: { type: 'state.redis', metadata: [{ name: 'redisHost', value: 'r:6379' }] } },
  });

  it('finds the named component and checks its type', () => {
    expect(componentForRef({ componentName: 'cache', componentType: 'state.redis' }, loaded).spec.type).toBe(
      'state.redis',
    );
    expect(
      codeOf(() => componentForRef({ componentName: 'cache', componentType: 'state.postgresql' }, loaded)),
    ).toMatch(/SPROUT_ERR_STATE_COMPONENT_INVALID: .*declares "cache" as state.postgresql/);
  });

  it('gives embedded types a default component and names the missing file otherwise', () => {
    const c = componentForRef({ componentName: 'orders', componentType: 'state.sqlite' }, loaded);
    expect([c.metadata.name, c.spec.type, c.spec.metadata]).toEqual(['orders', 'state.sqlite', []]);
    expect(componentForRef({ componentName: 'tmp' }, []).spec.type).toBe('state.sqlite');
    expect(
      codeOf(() => componentForRef({ componentName: 'db', componentType: 'state.postgresql' }, loaded)),
    ).toMatch(/SPROUT_ERR_STATE_STORE_NOT_FOUND: .*add a Component YAML with metadata.name "db"/);
  });
});

describe('a metadata problem names file:line and the field (positions kept by @sprout/spec)', () => {
  // The bad item's name is on line 10 and its value on line 11, in both kinds of file.
  const resources = (key: string, value: string) => `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: store
spec:
  type: state.redis
  version: v1
  metadata:
    - { name: redisHost, value: "localhost:6379" }
    - name: ${key}
      value: "${value}"
`;
  const functionYaml = (key: string, value: string) => `apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata: { name: orders }
spec:
  serving:
    states:
      store:
        spec:
          type: state.redis
          metadata: [{ name: redisHost, value: "localhost:6379" },
            { name: ${key},
              value: "${value}" }]
`;
  type Warn = (message: string) => void;
  const sources = {
    'resources file': {
      file: 'store.yaml',
      read: (key: string, value: string, onWarning: Warn) =>
        loadComponents(folder({ 'store.yaml': resources(key, value) }), { env: {}, onWarning }),
    },
    'function.yaml': {
      file: 'fn/function.yaml',
      read: (key: string, value: string, warn: Warn) =>
        resolveEngineSettings(
          resolveFunctionText(functionYaml(key, value), 'fn/function.yaml').components[0]!,
          {},
          warn,
        ),
    },
  };
  const lines = { 'resources file': { name: 10, value: 11 }, 'function.yaml': { name: 11, value: 12 } };

  it.each(
    (['resources file', 'function.yaml'] as const).flatMap(
      (source) =>
        [
          [source, 'a value Sprout cannot honour', 'failover', 'true', 'value'],
          [source, 'a malformed value', 'redisDB', '-1', 'value'],
          [source, 'a key Dapr does not document (a warning, as in Dapr)', 'redisHots', 'x', 'name'],
        ] as const,
    ),
  )('%s: %s', (source, _what, key, value, part) => {
    const warnings: string[] = [];
    let err: unknown;
    try {
      sources[source].read(key, value, (m) => warnings.push(m));
    } catch (e) {
      err = e;
    }
    const where = `${sources[source].file}:${lines[source][part]}: spec.metadata "${key}"`;
    if (part === 'name') {
      expect(err).toBeUndefined();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.startsWith(`${where} is not documented`)).toBe(true);
    } else {
      expect(err).toMatchObject({
        code: 'SPROUT_ERR_STATE_COMPONENT_INVALID',
        field: `spec.metadata.${key}`,
      });
      expect((err as Error).message.startsWith(where)).toBe(true);
    }
  });
});
