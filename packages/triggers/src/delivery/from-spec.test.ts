import { describe, expect, it } from 'vitest';
import { parseSubscription, resolveFunctionText } from '@sprout/spec';
import type { InputBindingEngine, PubSubEngine } from '../broker.js';
import { isTriggersError } from '../errors.js';
import { triggersFor } from './from-spec.js';

const fn = (consumerID?: string) =>
  resolveFunctionText(
    `apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: shop
  namespace: eu
spec:
  serving:
    pubsub:
      bus:
        type: pubsub.redis
        version: v1
        metadata:${consumerID === undefined ? ' []' : `\n          - name: consumerID\n            value: '${consumerID}'`}
    bindings:
      tick:
        type: bindings.cron
        version: v1
        metadata: [{ name: schedule, value: '@every 1s' }]
    triggers:
      dapr:
        - { name: bus, topic: orders, inputName: incoming }
        - { name: tick, type: bindings.cron }
`,
    'shop/function.yaml',
  );

const bus = { type: 'pubsub.redis' } as PubSubEngine;
const tick = { type: 'bindings.cron' } as InputBindingEngine;

describe('triggersFor: a resolved function to delivery triggers', () => {
  it('one trigger per input; the consumer group is the app id by default', () => {
    expect(triggersFor(fn(), { pubsubs: { bus }, bindings: { tick } })).toEqual([
      { kind: 'pubsub', name: 'incoming', pubsubname: 'bus', engine: bus, topic: 'orders', group: 'shop' },
      { kind: 'binding', name: 'tick', engine: tick },
    ]);
  });

  it('consumerID as daprd fills it: {appID}, {namespace}, {uuid} (one per process)', () => {
    const group = (id: string, appId?: string) =>
      (
        triggersFor(fn(id), { pubsubs: { bus }, bindings: { tick } }, appId ? { appId } : {})[0] as {
          group: string;
        }
      ).group;
    expect(group('{appID}-{namespace}', 'checkout')).toBe('checkout-eu');
    expect(group('fixed')).toBe('fixed');
    expect(group('{uuid}')).toMatch(/^[0-9a-f-]{36}$/);
    expect(group('{uuid}')).toBe(group('{uuid}'));
  });

  it('takes the declarative Subscription of its pub/sub and topic, in scope', () => {
    const sub = (scopes?: string[]) =>
      parseSubscription({
        apiVersion: 'dapr.io/v2alpha1',
        kind: 'Subscription',
        metadata: { name: 's' },
        spec: {
          pubsubname: 'bus',
          topic: 'orders',
          routes: { rules: [{ match: 'event.data.big == true', path: '/big' }], default: '/orders' },
          deadLetterTopic: 'orders-dead',
          metadata: { rawPayload: 'false' },
        },
        ...(scopes ? { scopes } : {}),
      });
    const [t] = triggersFor(fn(), { pubsubs: { bus }, bindings: { tick } }, { subscriptions: [sub()] });
    expect(t).toMatchObject({
      route: '/orders',
      rules: [{ match: 'event.data.big == true', path: '/big' }],
      deadLetterTopic: 'orders-dead',
      metadata: { rawPayload: 'false' },
    });
    const [other] = triggersFor(
      fn(),
      { pubsubs: { bus }, bindings: { tick } },
      { subscriptions: [sub(['billing'])] },
    );
    expect(other).not.toHaveProperty('route');
    expect(other).not.toHaveProperty('deadLetterTopic');
  });

  it('a component with no engine opened is a coded error naming it', () => {
    const missing = (engines: Parameters<typeof triggersFor>[1]) => {
      try {
        triggersFor(fn(), engines);
      } catch (err) {
        return err;
      }
      return undefined;
    };
    const a = missing({ pubsubs: {}, bindings: { tick } });
    expect(isTriggersError(a, 'SPROUT_ERR_TRIGGERS_PUBSUB_NOT_FOUND')).toBe(true);
    expect((a as Error).message).toContain('"bus"');
    expect(
      isTriggersError(missing({ pubsubs: { bus }, bindings: {} }), 'SPROUT_ERR_TRIGGERS_BINDING_NOT_FOUND'),
    ).toBe(true);
  });

  it('an HTTP function has no triggers', () => {
    const http = resolveFunctionText(
      'apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata: { name: h }\nspec: {}\n',
      'h.yaml',
    );
    expect(triggersFor(http, { pubsubs: {}, bindings: {} })).toEqual([]);
  });
});
