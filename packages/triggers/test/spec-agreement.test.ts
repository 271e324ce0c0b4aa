// @sprout/spec refuses input and scaler types with no local engine before anything runs; these
// lists must name exactly what this package runs, or a function.yaml would be accepted and then
// fail (or be refused while it would run).
import { describe, expect, it } from 'vitest';
import { LOCAL_INPUT_TYPES, LOCAL_SCALER_TYPES } from '@sprout/spec';
import { isTriggersError, LAG_TRIGGER_TYPES, openInputBinding, openPubSub } from '../src/index.js';

describe("@sprout/spec's local type lists agree with the engines", () => {
  it.each([...LOCAL_INPUT_TYPES])('%s has an input engine here', async (type) => {
    const open = type.startsWith('pubsub.') ? openPubSub : openInputBinding;
    // Empty metadata: an engine that exists refuses it (or opens); only a missing one says unsupported.
    const result = await open({ name: 'agreement', type, metadata: {} }).then(
      async (engine) => {
        await engine.close();
        return undefined;
      },
      (err: unknown) => err,
    );
    expect(isTriggersError(result, 'SPROUT_ERR_TRIGGERS_COMPONENT_UNSUPPORTED'), String(result)).toBe(false);
  });

  it('an input type the spec refuses has no input engine here', async () => {
    for (const type of ['bindings.kafka', 'bindings.rabbitmq', 'pubsub.kafka']) {
      const open = type.startsWith('pubsub.') ? openPubSub : openInputBinding;
      const err = await open({ name: 'agreement', type, metadata: {} }).catch((e: unknown) => e);
      expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_COMPONENT_UNSUPPORTED'), type).toBe(true);
      expect((LOCAL_INPUT_TYPES as readonly string[]).includes(type), type).toBe(false);
    }
  });

  it('the KEDA scaler types are the ones the lag scaler reads', () => {
    expect([...LOCAL_SCALER_TYPES].sort()).toEqual([...LAG_TRIGGER_TYPES].sort());
  });
});
