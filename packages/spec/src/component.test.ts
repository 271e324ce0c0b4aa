import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import {
  componentOf,
  loadResources,
  parseComponent,
  resolveComponent,
  resolveMetadata,
  SpecError,
  type ComponentDocument,
} from './index.js';
import { mutateTextSome, prng, timeBox } from '../test/fuzz.js';

// Upstream Dapr and OpenFunction component files (each names its source on line 1).
const fixtures = fileURLToPath(new URL('../test/fixtures/components/', import.meta.url));
const local = join(fixtures, 'local');
const text = (rel: string) => readFileSync(join(fixtures, rel), 'utf8');
const upstream = (rel: string) => parseComponent(parse(text(rel)), rel.split('/').pop());

const dirs: string[] = [];
function folder(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-spec-components-'));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The SpecError `fn` throws; anything else (or nothing) fails the test. */
function refusal(fn: () => unknown): SpecError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  }
  throw new Error('expected a SpecError, but nothing was thrown');
}

/** A valid Component document to break one field of. */
const component = () =>
  parse(text('local/statestore.yaml')) as {
    metadata: Record<string, unknown>;
    spec: Record<string, unknown> & { metadata: Record<string, unknown>[] };
  } & Record<string, unknown>;

describe('parseComponent', () => {
  it('accepts upstream Dapr component files as they are', () => {
    expect(upstream('local/statestore.yaml')).toEqual({
      apiVersion: 'dapr.io/v1alpha1',
      kind: 'Component',
      metadata: { name: 'statestore' },
      spec: {
        type: 'state.redis',
        version: 'v1',
        metadata: [
          { name: 'redisHost', value: 'localhost:6379' },
          { name: 'redisPassword', value: '' },
          { name: 'actorStateStore', value: 'true' },
        ],
      },
      source: 'statestore.yaml',
    });
    expect(upstream('local/binding-cron.yaml')).toMatchObject({
      metadata: { name: 'cron', namespace: 'quickstarts' },
      spec: { type: 'bindings.cron', metadata: [{ name: 'schedule', value: '@every 10s' }] },
    });
    // A secret reference is kept as a reference: only resolveMetadata reads it.
    expect(upstream('single/k8s-pubsub.yaml').spec.metadata[1]).toEqual({
      name: 'redisPassword',
      secretKeyRef: { name: 'dapr-dev-redis', key: 'redis-password' },
    });
    expect(parseComponent(parse(text('local/pubsub.yaml'))).source).toBe('component');
  });

  it('keeps scopes, auth and the metadata item value types Dapr allows', () => {
    const doc = component();
    doc.scopes = ['checkout'];
    doc.auth = { secretStore: 'envvar-secret-store' };
    doc.spec.metadata.push({ name: 'maxConns', value: 10 }, { name: 'enableTLS', value: false });
    expect(parseComponent(doc, 's.yaml')).toMatchObject({
      scopes: ['checkout'],
      auth: { secretStore: 'envvar-secret-store' },
      spec: { metadata: expect.arrayContaining([{ name: 'maxConns', value: 10 }]) },
    });
  });

  it.each([
    ['a missing version (upstream file)', null, 'spec.version', /^no-version-pubsub\.yaml: spec\.version /],
    ['a missing type', (d) => delete d.spec.type, 'spec.type', /^s\.yaml: spec\.type /],
    [
      'a type without a building block',
      (d) => (d.spec.type = 'redis'),
      'spec.type',
      /must look like state\.redis/,
    ],
    [
      'a name that is not a DNS name',
      (d) => (d.metadata.name = 'Order_PubSub'),
      'metadata.name',
      /^s\.yaml: metadata\.name must be a lowercase DNS name/,
    ],
    [
      'an unknown spec field',
      (d) => (d.spec.replicas = 2),
      'spec.replicas',
      /^s\.yaml: spec\.replicas .*"replicas"/,
    ],
    ['an unknown top-level field', (d) => (d.status = {}), 'status', /^s\.yaml: status .*"status"/],
    [
      'an unknown metadata item field',
      (d) => d.spec.metadata.push({ name: 'x', valueFrom: { secretKeyRef: { name: 'y' } } }),
      'spec.metadata.3.valueFrom',
      /^s\.yaml: spec\.metadata\.3\.valueFrom /,
    ],
    [
      'a metadata item without a name',
      (d) => d.spec.metadata.push({ value: 'v' }),
      'spec.metadata.3.name',
      /^s\.yaml: spec\.metadata\.3\.name /,
    ],
    ['another apiVersion', (d) => (d.apiVersion = 'dapr.io/v2alpha1'), 'apiVersion', /^s\.yaml: apiVersion /],
    ['another kind', (d) => (d.kind = 'Configuration'), 'kind', /^s\.yaml: kind /],
  ] as [string, ((d: ReturnType<typeof component>) => unknown) | null, string, RegExp][])(
    'refuses %s, naming the source and the field',
    (_, breakIt, field, message) => {
      const err = breakIt
        ? refusal(() => {
            const d = component();
            breakIt(d);
            return parseComponent(d, 's.yaml');
          })
        : refusal(() => upstream('single/no-version-pubsub.yaml'));
      expect(err.code).toBe('SPROUT_ERR_SPEC_INVALID_COMPONENT');
      expect(err.field).toBe(field);
      expect(err.message).toMatch(message);
    },
  );

  it.each([null, 'statestore', 42, [], [{ kind: 'Component' }]])(
    'refuses a document that is not an object: %j',
    (doc) => {
      const err = refusal(() => parseComponent(doc, 'odd.yaml'));
      expect([err.code, err.field]).toEqual(['SPROUT_ERR_SPEC_INVALID_COMPONENT', '']);
      expect(err.message).toMatch(/^odd\.yaml: \(document\) /);
    },
  );
});

describe('componentOf', () => {
  const states = { type: 'state.redis', metadata: [{ name: 'redisHost', value: 'localhost:6379' }] };

  it('makes a Component of an inline spec, with version v1 by default and the namespace given', () => {
    const c = componentOf('orders', states, 'fn.yaml: states.orders');
    expect(c).toEqual({
      apiVersion: 'dapr.io/v1alpha1',
      kind: 'Component',
      metadata: { name: 'orders' },
      spec: { ...states, version: 'v1' },
      source: 'fn.yaml: states.orders',
    });
    expect(componentOf('orders', { ...states, version: 'v2' }, 's', 'shop')).toMatchObject({
      metadata: { name: 'orders', namespace: 'shop' },
      spec: { version: 'v2' },
    });
    expect(componentOf('cron', { type: 'bindings.cron' }, 's').spec.metadata).toEqual([]);
  });

  it('validates the inline spec like a Component file, naming the source', () => {
    const bad = refusal(() => componentOf('Orders', states, 'fn.yaml: states.Orders'));
    expect([bad.code, bad.field]).toEqual(['SPROUT_ERR_SPEC_INVALID_COMPONENT', 'metadata.name']);
    expect(bad.message).toMatch(/^fn\.yaml: states\.Orders: metadata\.name /);
    expect(refusal(() => componentOf('orders', { metadata: [] }, 'fn.yaml: states.orders')).field).toBe(
      'spec.type',
    );
    expect(refusal(() => componentOf('orders', { ...states, scopes: ['a'] }, 'x')).field).toBe('spec.scopes');
  });
});

describe('resolveMetadata and resolveComponent', () => {
  const withItems = (items: Record<string, unknown>[], source?: string): ComponentDocument => {
    const d = component();
    d.spec.metadata = items;
    return source === undefined ? { ...parseComponent(d), source: undefined } : parseComponent(d, source);
  };

  it('takes values as strings, envRef from the variable named, secretKeyRef from the variable = its name', () => {
    expect(resolveMetadata(upstream('local/statestore.yaml'), {})).toEqual({
      redisHost: 'localhost:6379',
      redisPassword: '',
      actorStateStore: 'true',
    });
    const c = withItems(
      [
        { name: 'redisHost', envRef: 'SPEC_REDIS_HOST' },
        // Dapr's local env secret store: secretKeyRef.name is the variable; key may be left out or repeat it.
        { name: 'redisPassword', secretKeyRef: { name: 'REDIS_PASSWORD' } },
        { name: 'redisUsername', secretKeyRef: { name: 'REDIS_USER', key: 'REDIS_USER' } },
        { name: 'redisDB', value: 3 },
        { name: 'enableTLS', value: false },
        { name: 'keyPrefix' },
      ],
      'store.yaml',
    );
    const env = { SPEC_REDIS_HOST: 'h:6380', REDIS_PASSWORD: 's3cret', REDIS_USER: '' };
    expect(resolveMetadata(c, env)).toEqual({
      redisHost: 'h:6380',
      redisPassword: 's3cret',
      redisUsername: '',
      redisDB: '3',
      enableTLS: 'false',
      keyPrefix: '',
    });
    const resolved = resolveComponent(c, env);
    expect(resolved.spec.metadata).toEqual([
      { name: 'redisHost', value: 'h:6380' },
      { name: 'redisPassword', value: 's3cret' },
      { name: 'redisUsername', value: '' },
      { name: 'redisDB', value: '3' },
      { name: 'enableTLS', value: 'false' },
      { name: 'keyPrefix', value: '' },
    ]);
    expect(resolved).toMatchObject({
      metadata: c.metadata,
      source: 'store.yaml',
      spec: { type: 'state.redis' },
    });
    // The input keeps its references.
    expect(c.spec.metadata[1]).toEqual({ name: 'redisPassword', secretKeyRef: { name: 'REDIS_PASSWORD' } });
  });

  it('reads process.env when no environment is given', () => {
    const name = `SPROUT_SPEC_TEST_${process.pid}`;
    process.env[name] = 'from-process';
    try {
      expect(resolveMetadata(withItems([{ name: 'redisHost', envRef: name }], 's'))).toEqual({
        redisHost: 'from-process',
      });
    } finally {
      delete process.env[name];
    }
  });

  it('refuses a secretKeyRef key other than its name, saying why (upstream Kubernetes file)', () => {
    const err = refusal(() => resolveMetadata(upstream('single/k8s-pubsub.yaml'), { 'dapr-dev-redis': 'x' }));
    expect([err.code, err.field]).toEqual([
      'SPROUT_ERR_SPEC_INVALID_COMPONENT',
      'spec.metadata.redisPassword.secretKeyRef.key',
    ]);
    expect(err.message).toMatch(/^k8s-pubsub\.yaml: spec\.metadata "redisPassword" /);
    expect(err.message).toContain('key "redis-password" differs from its name "dapr-dev-redis"');
    expect(err.message).toContain('one key per variable');
  });

  it('refuses a variable that is not set with SPROUT_ERR_SPEC_SECRET_MISSING naming it', () => {
    for (const item of [
      { name: 'redisPassword', secretKeyRef: { name: 'REDIS_PASSWORD' } },
      { name: 'redisPassword', envRef: 'REDIS_PASSWORD' },
    ]) {
      const err = refusal(() => resolveComponent(withItems([item], 'store.yaml'), { OTHER: 'x' }));
      expect([err.code, err.field]).toEqual([
        'SPROUT_ERR_SPEC_SECRET_MISSING',
        'spec.metadata.redisPassword',
      ]);
      expect(err.message).toMatch(
        /^store\.yaml: spec\.metadata "redisPassword" reads environment variable REDIS_PASSWORD/,
      );
    }
    // Without a source the component's name opens the message.
    const unnamed = refusal(() => resolveMetadata(withItems([{ name: 'a', envRef: 'NOPE' }]), {}));
    expect(unnamed.message).toMatch(/^statestore: /);
  });

  it('refuses a metadata name given twice', () => {
    const c = withItems(
      [
        { name: 'redisHost', value: 'a:1' },
        { name: 'redisHost', value: 'b:2' },
      ],
      'store.yaml',
    );
    const err = refusal(() => resolveMetadata(c, {}));
    expect([err.code, err.field]).toEqual(['SPROUT_ERR_SPEC_INVALID_COMPONENT', 'spec.metadata.redisHost']);
    expect(err.message).toBe('store.yaml: spec.metadata "redisHost" is given twice');
  });

  it('names the line of the item at fault when the component was read from a file', () => {
    const dir = folder({
      'store.yaml': `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: store }
spec:
  type: state.redis
  version: v1
  metadata:
    - { name: redisHost, value: "a:1" }
    - name: redisPassword
      envRef: REDIS_PASSWORD
    - { name: redisHost, value: "b:2" }
`,
    });
    const [c] = loadResources(dir).components;
    expect(refusal(() => resolveMetadata(c!, { REDIS_PASSWORD: 'x' })).message).toBe(
      'store.yaml:11: spec.metadata "redisHost" is given twice',
    );
    const once = { ...c!, spec: { ...c!.spec, metadata: c!.spec.metadata.slice(0, 2) } };
    expect(refusal(() => resolveMetadata(once, {})).message).toMatch(
      /^store\.yaml:9: spec\.metadata "redisPassword" reads environment variable REDIS_PASSWORD/,
    );
  });
});

describe('loadResources', () => {
  it('reads every Component of a folder of upstream files, skipping other kinds, with file:line sources for documents of multi-document files', () => {
    const { components, subscriptions } = loadResources(local);
    expect(components.map((c) => [c.metadata.name, c.spec.type, c.source])).toEqual([
      ['cron', 'bindings.cron', 'binding-cron.yaml'],
      ['sqldb', 'bindings.postgres', 'binding-postgres.yaml'],
      ['sample-topic', 'bindings.kafka', 'kafka-bindings.yaml'],
      ['localsecretstore', 'secretstores.local.file', 'local-secret-store.yaml'],
      // A Deployment, this Component and a Function in one file: only the Component is read.
      ['autoscaling-producer', 'pubsub.kafka', 'pubsub-sample.yaml:41'],
      ['orderpubsub', 'pubsub.redis', 'pubsub.yaml'],
      ['statestore', 'state.redis', 'statestore.yaml'],
    ]);
    expect(subscriptions).toEqual([]);
  });

  it('keeps file:line of each metadata item (name and value), counted across the documents of a file', () => {
    const c = loadResources(local).components.find((x) => x.metadata.name === 'autoscaling-producer')!;
    expect(c.metadataAt).toEqual({
      brokers: { name: 'pubsub-sample.yaml:48', value: 'pubsub-sample.yaml:49' },
      consumerGroup: { name: 'pubsub-sample.yaml:50', value: 'pubsub-sample.yaml:51' },
      authRequired: { name: 'pubsub-sample.yaml:52', value: 'pubsub-sample.yaml:53' },
      allowedTopics: { name: 'pubsub-sample.yaml:54', value: 'pubsub-sample.yaml:55' },
    });
    // A value read from the environment has no line of its own: the item's line stands for it.
    const dir = folder({
      'store.yaml': `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: store }
spec:
  type: state.redis
  version: v1
  metadata:
    - name: redisPassword
      secretKeyRef: { name: REDIS_PASSWORD }
`,
    });
    expect(loadResources(dir).components[0]!.metadataAt).toEqual({
      redisPassword: { name: 'store.yaml:8', value: 'store.yaml:8' },
    });
    // The metadata list itself, where a key it lacks is placed.
    expect(loadResources(dir).components[0]!.componentAt).toBe('store.yaml:7');
    expect(c.componentAt).toBe('pubsub-sample.yaml:47');
  });

  it('reads Subscriptions too only when asked', () => {
    const { subscriptions } = loadResources(local, { subscriptions: true });
    expect(subscriptions).toEqual([
      {
        apiVersion: 'dapr.io/v2alpha1',
        kind: 'Subscription',
        metadata: { name: 'orderpubsub' },
        spec: { topic: 'orders', routes: { default: '/orders' }, pubsubname: 'orderpubsub' },
        scopes: ['orderprocessing', 'checkout'],
        source: 'subscription.yaml',
      },
    ]);
    // Skipped, a broken Subscription is not looked at; asked for, it is refused.
    const dir = folder({
      'sub.yaml': 'apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata: { name: s }\n',
    });
    expect(loadResources(dir)).toEqual({ components: [], subscriptions: [] });
    expect(refusal(() => loadResources(dir, { subscriptions: true })).message).toMatch(/^sub\.yaml: spec /);
  });

  it('reads .yaml, .yml and .json files only, and no sub-folders', () => {
    const statestore = parse(text('local/statestore.yaml')) as object;
    const dir = folder({
      'a.yml': text('local/pubsub.yaml'),
      'b.json': JSON.stringify(statestore),
      'c.YAML': text('local/binding-cron.yaml'),
      'd.txt': text('local/binding-postgres.yaml'),
      'e.yaml.bak': text('local/kafka-bindings.yaml'),
    });
    mkdirSync(join(dir, 'nested.yaml'));
    mkdirSync(join(dir, 'more'));
    cpSync(join(local, 'local-secret-store.yaml'), join(dir, 'more', 'secrets.yaml'));
    expect(loadResources(dir).components.map((c) => c.source)).toEqual(['a.yml', 'b.json', 'c.YAML']);
  });

  it('skips components scoped to other apps when an app id is given', () => {
    const scoped = `${text('local/pubsub.yaml')}scopes:\n  - orderprocessing\n  - checkout\n`;
    const dir = folder({ 'pubsub.yaml': scoped, 'statestore.yaml': text('local/statestore.yaml') });
    const names = (appId?: string) => loadResources(dir, { appId }).components.map((c) => c.metadata.name);
    expect(names()).toEqual(['orderpubsub', 'statestore']);
    expect(names('checkout')).toEqual(['orderpubsub', 'statestore']);
    expect(names('billing')).toEqual(['statestore']);
  });

  it('refuses a component name used in two files, naming both; a component scoped away does not count', () => {
    const dir = folder({
      'pubsub.yaml': text('local/pubsub.yaml'),
      'k8s-pubsub.yaml': text('single/k8s-pubsub.yaml'),
    });
    const err = refusal(() => loadResources(dir));
    expect([err.code, err.field]).toEqual(['SPROUT_ERR_SPEC_INVALID_COMPONENT', 'metadata.name']);
    expect(err.message).toBe('pubsub.yaml: component name "orderpubsub" is already used in k8s-pubsub.yaml');

    const twice = text('local/statestore.yaml');
    expect(refusal(() => loadResources(folder({ 'both.yaml': `${twice}---\n${twice}` }))).message).toBe(
      'both.yaml:19: component name "statestore" is already used in both.yaml:3',
    );

    writeFileSync(join(dir, 'k8s-pubsub.yaml'), `${text('single/k8s-pubsub.yaml')}scopes: [other-app]\n`);
    expect(loadResources(dir, { appId: 'checkout' }).components.map((c) => c.source)).toEqual([
      'pubsub.yaml',
    ]);
  });

  it('refuses a folder that does not exist, naming it', () => {
    const missing = join(folder(), 'no-such-folder');
    const err = refusal(() => loadResources(missing));
    expect(err.code).toBe('SPROUT_ERR_SPEC_INVALID_COMPONENT');
    expect(err.message).toContain(`cannot read resources folder ${missing}`);
  });

  it('refuses invalid YAML naming file and line, and an invalid document naming file and line', () => {
    // Data from dapr/quickstarts actors/resources/statestore.yaml at d37a65c34fc8: a quote left open.
    const broken = [
      'apiVersion: dapr.io/v1alpha1',
      'kind: Component',
      'metadata:',
      '  name: statestore',
      'spec:',
      '  type: state.redis',
      '  version: v1',
      '  metadata:',
      '  - name: redisHost',
      '    value: localhost:6379',
      '  - name: redisPassword',
      '    value: ""',
      '  - name: actorStateStore',
      '    value: "true',
      '',
    ].join('\n');
    const err = refusal(() => loadResources(folder({ 'statestore.yaml': broken })));
    expect([err.code, err.field]).toEqual(['SPROUT_ERR_SPEC_INVALID_COMPONENT', undefined]);
    // The quote opens on line 14; the parser notices at the end of the text.
    expect(err.message).toMatch(/^statestore\.yaml:1[45]: invalid YAML: Missing closing "quote/);

    const second = `${text('local/pubsub.yaml')}---\n${text('single/no-version-pubsub.yaml')}`;
    const invalid = refusal(() => loadResources(folder({ 'two.yaml': second })));
    expect([invalid.field, invalid.message.split(' ')[0]]).toEqual(['spec.version', 'two.yaml:20:']);

    const alias = refusal(() => loadResources(folder({ 'alias.yaml': 'apiVersion: *nowhere\n' })));
    expect(alias.message).toMatch(/^alias\.yaml(:\d+)?: invalid YAML: /);
  });
});

describe('fuzz', () => {
  const seeds = [
    'local/statestore.yaml',
    'local/pubsub.yaml',
    'local/binding-cron.yaml',
    'local/kafka-bindings.yaml',
    'local/pubsub-sample.yaml',
    'local/subscription.yaml',
    'single/k8s-pubsub.yaml',
  ].map(text);

  it('mutated and cut component YAML only ever raises a SpecError (time-boxed, seeded)', () => {
    const rnd = prng(0x5eed);
    const dir = folder();
    const file = join(dir, 'fuzz.yaml');
    let accepted = 0;
    let refused = 0;
    timeBox(500, (i) => {
      const input = mutateTextSome(seeds[i % seeds.length]!, rnd);
      const attempt = (fn: () => unknown) => {
        try {
          fn();
          accepted++;
        } catch (err) {
          if (!(err instanceof SpecError))
            throw new Error(`not a SpecError for input ${JSON.stringify(input)}: ${String(err)}`);
          expect(err.code).toMatch(/^SPROUT_ERR_SPEC_(INVALID_COMPONENT|SECRET_MISSING)$/);
          expect(err.message).toMatch(/^fuzz\.yaml(#\d+)?[: ]/);
          refused++;
        }
      };
      writeFileSync(file, input);
      attempt(() => {
        const { components } = loadResources(dir, { subscriptions: true, appId: 'checkout' });
        for (const c of components) resolveComponent(c, {});
      });
      // parseComponent on whatever the YAML library makes of the text (its own syntax errors aside).
      for (const doc of parseAllDocuments(input)) {
        let value: unknown;
        try {
          value = doc.toJS();
        } catch {
          continue;
        }
        attempt(() => parseComponent(value, 'fuzz.yaml'));
      }
    });
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it('random values at random places of a valid document only ever raise a SpecError', () => {
    const rnd = prng(42);
    const values = [
      null,
      undefined,
      0,
      -1,
      1.5,
      '',
      'x',
      'Upper_Case',
      true,
      [],
      [1],
      {},
      { name: 'n' },
      '__proto__',
    ];
    let accepted = 0;
    let refused = 0;
    timeBox(300, () => {
      const doc = parse(stringify(parse(text('local/pubsub.yaml')))) as Record<string, unknown>;
      // Walk to a random node and replace one of its fields.
      let node: Record<string, unknown> = doc;
      for (let depth = 0; depth < 4; depth++) {
        const keys = Object.keys(node);
        const key = keys[Math.floor(rnd() * keys.length)];
        const next = key === undefined ? undefined : node[key];
        if (!next || typeof next !== 'object' || rnd() < 0.3) {
          node[key ?? 'extra'] = values[Math.floor(rnd() * values.length)];
          break;
        }
        node = next as Record<string, unknown>;
      }
      try {
        resolveMetadata(parseComponent(doc, 'v.yaml'), { X: 'y' });
        accepted++;
      } catch (err) {
        if (!(err instanceof SpecError))
          throw new Error(`not a SpecError for ${JSON.stringify(doc)}: ${String(err)}`);
        expect(err.message).toMatch(/^v\.yaml: /);
        refused++;
      }
    });
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});

describe('upstream shapes Dapr accepts', () => {
  const doc = (spec: object) => ({
    apiVersion: 'dapr.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'store' },
    spec: { type: 'state.redis', version: 'v1', ...spec },
  });

  it('reads an empty secretKeyRef beside a value (as OpenFunction writes it) as no reference', () => {
    const c = parseComponent(
      doc({ metadata: [{ name: 'redisHost', value: 'r:6379', secretKeyRef: { name: '', key: '' } }] }),
    );
    expect(c.spec.metadata).toEqual([{ name: 'redisHost', value: 'r:6379' }]);
    expect(() =>
      parseComponent(doc({ metadata: [{ name: 'redisHost', secretKeyRef: { name: '', key: 'k' } }] })),
    ).toThrow(/secretKeyRef/);
  });

  it('reads `metadata:` left empty as no metadata', () => {
    expect(parseComponent(doc({ metadata: null })).spec.metadata).toEqual([]);
  });
});
