import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadResources, parseSubscription, SpecError } from './index.js';

// Shapes from Dapr's declarative subscription docs (resource spec, message routing, dead letter
// topics, bulk subscribe); the quickstart file is upstream data.
const routed = `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: myevent-subscription
spec:
  pubsubname: pubsub
  topic: inventory
  routes:
    rules:
      - match: event.type == "widget"
        path: /widgets
      - match: event.type == "gadget"
        path: /gadgets
    default: /products
scopes:
  - app1
  - app2
`;

const deadLetter = `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: order
  namespace: shop
spec:
  topic: orders
  routes:
    default: /checkout
  pubsubname: pubsub
  deadLetterTopic: poisonMessages
  metadata:
    rawPayload: "true"
  bulkSubscribe:
    enabled: true
    maxMessagesCount: 100
    maxAwaitDurationMs: 40
scopes:
  - checkout
`;

const v1 = `apiVersion: dapr.io/v1alpha1
kind: Subscription
metadata:
  name: order-pub-sub
spec:
  topic: orders
  route: /checkout
  pubsubname: order-pub-sub
  deadLetterTopic: poisonMessages
  metadata:
    rawPayload: "true"
scopes:
  - orderprocessing
`;

const quickstart = readFileSync(
  fileURLToPath(new URL('../test/fixtures/components/local/subscription.yaml', import.meta.url)),
  'utf8',
);

function refusal(fn: () => unknown): SpecError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  }
  throw new Error('expected a SpecError, but nothing was thrown');
}

/** `text` parsed, with `edit` applied to its spec. */
function edited(text: string, edit: (spec: Record<string, unknown>) => void): unknown {
  const doc = parse(text) as { spec: Record<string, unknown> };
  edit(doc.spec);
  return doc;
}

describe('parseSubscription', () => {
  it('reads v2alpha1 with routing rules (match and path), a default route and scopes', () => {
    expect(parseSubscription(parse(routed), 'routed.yaml')).toEqual({
      apiVersion: 'dapr.io/v2alpha1',
      kind: 'Subscription',
      metadata: { name: 'myevent-subscription' },
      spec: {
        pubsubname: 'pubsub',
        topic: 'inventory',
        routes: {
          rules: [
            { match: 'event.type == "widget"', path: '/widgets' },
            { match: 'event.type == "gadget"', path: '/gadgets' },
          ],
          default: '/products',
        },
      },
      scopes: ['app1', 'app2'],
      source: 'routed.yaml',
    });
  });

  it('reads the dead letter topic, metadata and bulk settings', () => {
    expect(parseSubscription(parse(deadLetter), 'dl.yaml')).toMatchObject({
      metadata: { name: 'order', namespace: 'shop' },
      spec: {
        routes: { default: '/checkout' },
        deadLetterTopic: 'poisonMessages',
        metadata: { rawPayload: 'true' },
        bulkSubscribe: { enabled: true, maxMessagesCount: 100, maxAwaitDurationMs: 40 },
      },
      scopes: ['checkout'],
    });
    expect(parseSubscription(parse(quickstart))).toMatchObject({
      spec: { pubsubname: 'orderpubsub', topic: 'orders', routes: { default: '/orders' } },
      source: 'subscription',
    });
  });

  it('converts v1alpha1 to v2alpha1: route becomes routes.default', () => {
    const s = parseSubscription(parse(v1), 'v1.yaml');
    expect(s).toEqual({
      apiVersion: 'dapr.io/v2alpha1',
      kind: 'Subscription',
      metadata: { name: 'order-pub-sub' },
      spec: {
        topic: 'orders',
        routes: { default: '/checkout' },
        pubsubname: 'order-pub-sub',
        deadLetterTopic: 'poisonMessages',
        metadata: { rawPayload: 'true' },
      },
      scopes: ['orderprocessing'],
      source: 'v1.yaml',
    });
    expect(s.spec).not.toHaveProperty('route');
  });

  it.each([
    ['v2alpha1 without pubsubname', routed, (s) => delete s.pubsubname, 'spec.pubsubname'],
    ['v2alpha1 without topic', routed, (s) => delete s.topic, 'spec.topic'],
    ['v2alpha1 with an empty topic', routed, (s) => (s.topic = ''), 'spec.topic'],
    ['v2alpha1 without routes', routed, (s) => delete s.routes, 'spec.routes'],
    ['v2alpha1 with a v1alpha1 route', deadLetter, (s) => (s.route = '/x'), 'spec.route'],
    [
      'a rule without a path',
      routed,
      (s) => ((s.routes as { rules: object[] }).rules[1] = { match: 'true' }),
      'spec.routes.rules.1.path',
    ],
    [
      'a rule without match',
      routed,
      (s) => ((s.routes as { rules: object[] }).rules[0] = { path: '/p' }),
      'spec.routes.rules.0.match',
    ],
    [
      'bulkSubscribe without enabled',
      deadLetter,
      (s) => (s.bulkSubscribe = { maxMessagesCount: 1 }),
      'spec.bulkSubscribe.enabled',
    ],
    [
      'a metadata value that is not a string',
      deadLetter,
      (s) => (s.metadata = { rawPayload: true }),
      'spec.metadata.rawPayload',
    ],
    ['v1alpha1 without pubsubname', v1, (s) => delete s.pubsubname, 'spec.pubsubname'],
    ['v1alpha1 without topic', v1, (s) => delete s.topic, 'spec.topic'],
    ['v1alpha1 without route', v1, (s) => delete s.route, 'spec.route'],
    ['v1alpha1 with v2alpha1 routes', v1, (s) => (s.routes = { default: '/x' }), 'spec.routes'],
  ] as [string, string, (s: Record<string, unknown>) => unknown, string][])(
    'refuses %s, naming the source and the field',
    (_, text, edit, field) => {
      const err = refusal(() => parseSubscription(edited(text, edit), 'sub.yaml'));
      expect([err.code, err.field]).toEqual(['SPROUT_ERR_SPEC_INVALID_COMPONENT', field]);
      expect(err.message.startsWith(`sub.yaml: ${field} `)).toBe(true);
    },
  );

  it.each([
    [{ ...(parse(routed) as object), apiVersion: 'dapr.io/v3' }, 'apiVersion'],
    [{ ...(parse(routed) as object), kind: 'Component' }, 'kind'],
    [{ ...(parse(v1) as object), kind: 'Component' }, 'kind'],
    [null, ''],
    ['subscription', ''],
  ])('refuses a document that is not a Subscription: %j', (doc, field) => {
    const err = refusal(() => parseSubscription(doc, 'odd.yaml'));
    expect([err.code, err.field]).toEqual(['SPROUT_ERR_SPEC_INVALID_COMPONENT', field]);
    expect(err.message).toMatch(/^odd\.yaml: /);
  });

  it('is what loadResources reads for Subscription documents, v1alpha1 included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-spec-subscriptions-'));
    try {
      writeFileSync(join(dir, 'subscriptions.yaml'), `${routed}---\n${v1}`);
      // A document of a multi-document file is named by the line of its kind.
      const kindLine = (n: number) =>
        `${routed}---\n${v1}`
          .split('\n')
          .map((l, i) => [l, i + 1] as const)
          .filter(([l]) => l.startsWith('kind:'))[n]![1];
      const { subscriptions, components } = loadResources(dir, { subscriptions: true });
      expect(components).toEqual([]);
      expect(
        subscriptions.map((s) => [s.metadata.name, s.apiVersion, s.spec.routes.default, s.source]),
      ).toEqual([
        ['myevent-subscription', 'dapr.io/v2alpha1', '/products', `subscriptions.yaml:${kindLine(0)}`],
        ['order-pub-sub', 'dapr.io/v2alpha1', '/checkout', `subscriptions.yaml:${kindLine(1)}`],
      ]);
      writeFileSync(join(dir, 'subscriptions.yaml'), `${routed}---\n${v1.replace('  topic: orders\n', '')}`);
      const err = refusal(() => loadResources(dir, { subscriptions: true }));
      expect([err.field, err.message.split(' ')[0]]).toEqual([
        'spec.topic',
        `subscriptions.yaml:${kindLine(1)}:`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
