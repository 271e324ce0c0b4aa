import { describe, expect, it } from 'vitest';
import { isTriggersError, openInputBinding, type Delivery } from '../src/index.js';
import { waitFor } from './conformance.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('bindings.cron input', () => {
  it('delivers a tick per @every interval with Dapr metadata, never more than maxInFlight at once', async () => {
    const cron = await openInputBinding({
      name: 'ticker',
      type: 'bindings.cron',
      metadata: { schedule: '@every 50ms' },
    });
    const got: Delivery[] = [];
    const sub = await cron.read({ maxInFlight: 2, onMessage: (d) => got.push(d), onError: () => {} });
    try {
      await waitFor(() => got.length === 2, 'two ticks');
      await waitFor(async () => (await sub.lag()) >= 4, 'ticks piling up as lag while two are unsettled');
      expect(got.length).toBe(2);
      expect(got[0]!.topic).toBe('ticker');
      expect(got[0]!.attempt).toBe(1);
      expect(Object.keys(got[0]!.metadata).sort()).toEqual(['readTimeUTC', 'timeZone']);
      expect(Date.parse(got[1]!.id)).toBeGreaterThan(Date.parse(got[0]!.id));
      await got[0]!.ack();
      await waitFor(() => got.length === 3, 'a third tick once one is acked');
      await got[1]!.nack(10);
      await waitFor(() => got.length === 4, 'the nacked tick again');
      expect(got[3]!.id).toBe(got[1]!.id);
      expect(got[3]!.attempt).toBe(2);
    } finally {
      await sub.close();
      await cron.close();
    }
    const after = got.length;
    await sleep(200);
    expect(got.length).toBe(after); // closed: no more ticks
  });

  it('refuses a bad schedule, a missing one and output direction, naming the field', async () => {
    for (const [metadata, code, field] of [
      [{ schedule: '@every nope' }, 'SPROUT_ERR_TRIGGERS_METADATA_INVALID', 'metadata.schedule'],
      [{}, 'SPROUT_ERR_TRIGGERS_METADATA_INVALID', 'metadata.schedule'],
      [
        { schedule: '@daily', direction: 'output' },
        'SPROUT_ERR_TRIGGERS_METADATA_INVALID',
        'metadata.direction',
      ],
      [
        { schedule: '@daily', scheduel: 'x' },
        'SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED',
        'metadata.scheduel',
      ],
    ] as const) {
      const err = await openInputBinding({ name: 'c', type: 'bindings.cron', metadata }).catch(
        (e: unknown) => e,
      );
      expect(isTriggersError(err, code), JSON.stringify(metadata)).toBe(true);
      expect((err as { field: string }).field).toBe(field);
    }
  });
});
