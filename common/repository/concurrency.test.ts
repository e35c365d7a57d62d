import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapConcurrent } from './concurrency.ts';

describe('mapConcurrent', () => {
  it('keeps the input order with at most `limit` calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapConcurrent([5, 1, 4, 2, 3], 2, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      for (let i = 0; i < n; i++) await Promise.resolve();
      inFlight--;
      return n * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30]);
    assert.equal(most, 2);
  });

  it('starts nothing after a failure and rejects only once the calls in flight have settled', async () => {
    const started: number[] = [];
    const settled: number[] = [];
    let releaseSlow!: () => void;
    const slow = new Promise<void>((resolve) => (releaseSlow = resolve));
    const run = mapConcurrent([0, 1, 2, 3, 4], 2, async (i) => {
      started.push(i);
      try {
        if (i === 0) await slow;
        if (i === 1) throw new Error('part 1 failed');
        return i;
      } finally {
        settled.push(i);
      }
    });
    let rejected = false;
    run.catch(() => (rejected = true));
    for (let k = 0; k < 20; k++) await Promise.resolve();
    assert.equal(rejected, false, 'still waiting for the call in flight');
    releaseSlow();
    await assert.rejects(run, /part 1 failed/);
    assert.deepEqual(started.sort(), [0, 1], 'no call started after the failure');
    assert.deepEqual(settled.sort(), [0, 1]);
  });
});
