import { describe, expect, it } from 'vitest';
import { PublishRateEstimator } from './rate.js';

describe('PublishRateEstimator: published = depth change + acks, per second', () => {
  it.each([
    // [depth before, settled before, depth now, settled now, seconds, rate]
    [0, 0, 0, 40, 10, 4], // all consumed
    [0, 0, 30, 0, 10, 3], // all queued
    [10, 5, 4, 25, 2, 7], // 6 left the queue, 20 acked: 14 new in 2 s
    [50, 0, 20, 0, 5, 0], // depth fell without acks seen (another consumer): reads 0, never negative
  ])('depth %i→%i … rate', (d0, s0, d1, s1, secs, rate) => {
    const r = new PublishRateEstimator();
    expect(r.sample(d0, s0, 1000)).toBeUndefined();
    expect(r.sample(d1, s1, 1000 + secs * 1000)).toBe(rate);
  });

  it('a restarted ack counter counts from zero; a reading at the same instant gives no rate', () => {
    const r = new PublishRateEstimator();
    r.sample(0, 100, 0);
    expect(r.sample(0, 8, 2000)).toBe(4);
    expect(r.sample(0, 8, 2000)).toBeUndefined();
  });
});
