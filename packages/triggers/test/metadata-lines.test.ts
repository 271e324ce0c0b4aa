// Component metadata errors name file:line and the field, through the one path: @sprout/spec keeps
// where each metadata item is written (a resources-folder file, a function.yaml's serving.pubsub),
// and the engines' metadata reader leads its error with that position. Refused before any broker
// connection is made, so no broker is needed here.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadResources, resolveFunctionText, resolveMetadata, type ComponentDocument } from '@sprout/spec';
import { afterAll, describe, expect, it } from 'vitest';
import { isTriggersError, openPubSub } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sprout-md-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A two-document resources file: the bad item's name is on line 20, its value on line 21. */
const resourcesFile = (key: string, value: string) => `# another component first: lines count across documents
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: other
spec:
  type: pubsub.in-memory
  version: v1
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: orders
spec:
  type: pubsub.jetstream
  version: v1
  metadata:
    - name: natsURL
      value: nats://127.0.0.1:4222
    - name: ${key}
      value: "${value}"
`;

/** A function.yaml with the pub/sub inline: the bad item's value is on line 20, its name on line 21. */
const functionYaml = (key: string, value: string) => `apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: orders
spec:
  version: v1.0.0
  serving:
    triggers:
      dapr:
        - name: orders
          type: pubsub.jetstream
          topic: jobs
    pubsub:
      orders:
        type: pubsub.jetstream
        version: v1
        metadata:
          - name: natsURL
            value: nats://127.0.0.1:4222
          - value: "${value}"
            name: ${key}
`;

const sources: Record<
  string,
  (key: string, value: string) => { file: string; component: ComponentDocument }
> = {
  'resources file': (key, value) => {
    const sub = mkdtempSync(join(dir, 'res-'));
    writeFileSync(join(sub, 'pubsub.yaml'), resourcesFile(key, value));
    const component = loadResources(sub).components.find((c) => c.metadata.name === 'orders')!;
    return { file: 'pubsub.yaml', component };
  },
  'function.yaml': (key, value) => {
    const file = join(dir, `fn-${key}`, 'function.yaml');
    const fn = resolveFunctionText(functionYaml(key, value), file);
    return { file, component: fn.components.find((c) => c.metadata.name === 'orders')! };
  },
};

const lines = { 'resources file': { name: 20, value: 21 }, 'function.yaml': { name: 21, value: 20 } };

describe('a component metadata error names file:line and the field', () => {
  it.each(
    Object.keys(sources).flatMap(
      (source) =>
        [
          [
            source,
            'a documented key Sprout cannot honour',
            'rateLimit',
            '100',
            'METADATA_UNSUPPORTED',
            'name',
          ],
          [source, 'a key Dapr does not document', 'ackwiat', '1s', 'METADATA_UNSUPPORTED', 'name'],
          [source, 'a malformed value', 'ackWait', 'soon', 'METADATA_INVALID', 'value'],
        ] as const,
    ),
  )('%s: %s', async (source, _what, key, value, code, part) => {
    const { file, component } = sources[source]!(key, value);
    const config = { name: 'orders', type: component.spec.type, metadata: resolveMetadata(component) };
    const err = await openPubSub({ ...config, at: component.metadataAt! }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTriggersError(err, `SPROUT_ERR_TRIGGERS_${code}`)).toBe(true);
    const line = lines[source as keyof typeof lines][part];
    expect((err as Error).message.startsWith(`${file}:${line}: component "orders"`)).toBe(true);
    expect((err as Error).message).toContain(`"${key}`);
    expect(err).toMatchObject({ field: `metadata.${key}` });
  });

  it.each(Object.keys(sources))(
    '%s: a required key that is missing points at the metadata list that lacks it',
    async (source) => {
      // jwt without its seedKey: the seedKey is missing from the list on line 17.
      const { file, component } = sources[source]!('jwt', 'eyJ0');
      const err = await openPubSub({
        name: 'orders',
        type: component.spec.type,
        metadata: resolveMetadata(component),
        at: component.metadataAt!,
        componentAt: component.componentAt!,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_METADATA_INVALID')).toBe(true);
      expect((err as Error).message).toContain(
        `${file}:17: component "orders" (pubsub.jetstream): metadata "seedKey" is required`,
      );
      expect((err as Error).message.startsWith(file)).toBe(true);
      expect(err).toMatchObject({ field: 'metadata.seedKey' });
    },
  );

  it('without positions (a config built in code) the error still names the component and the field', async () => {
    const err = await openPubSub({
      name: 'orders',
      type: 'pubsub.jetstream',
      metadata: { natsURL: 'nats://127.0.0.1:4222', ackWait: 'soon' },
    }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^component "orders" \(pubsub.jetstream\): metadata "ackWait"/);
    expect(err).toMatchObject({ field: 'metadata.ackWait' });
  });
});
