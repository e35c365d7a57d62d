import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scheduleJitterMs } from './schedule-jitter.ts';

describe('schedule jitter', () => {
  it('is fixed per configuration and within its bound', () => {
    assert.equal(scheduleJitterMs('shop/nightly/uid-1', 30_000, 86_400_000), scheduleJitterMs('shop/nightly/uid-1', 30_000, 86_400_000));
    for (const [max, period, bound] of [[30_000, 86_400_000, 30_000], [30_000, 60_000, 6_000], [0, 60_000, 0], [30_000, undefined, 30_000]] as const) {
      for (let i = 0; i < 200; i++) {
        const j = scheduleJitterMs(`ns/c${i}`, max, period);
        assert.ok(j >= 0 && j <= bound, `${j} within [0, ${bound}]`);
      }
    }
  });

  it('spreads 2,000 configurations of one minute over the bound', () => {
    const buckets = new Array(10).fill(0) as number[];
    for (let i = 0; i < 2000; i++) buckets[Math.min(9, Math.floor(scheduleJitterMs(`fleet/site-${i}`, 30_000, 3_600_000) / 3000))]!++;
    // Each tenth of the 30 s holds about 200 of them (a fair spread: none under 140 nor over 260).
    for (const b of buckets) assert.ok(b > 140 && b < 260, JSON.stringify(buckets));
  });
});
