import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ProgressTracker } from './progress-tracker.ts';

it('computes rate over a sliding window and an ETA while the estimate is ahead', () => {
  const t = new ProgressTracker(0);
  t.estimatedTotalBytes = 1000;
  assert.deepEqual(t.snapshot(100, 50, 1000), { bytesDumped: 100, bytesStored: 50, rateBytesPerSecond: 100, estimatedTotalBytes: 1000, etaSeconds: 9 });
  const p = t.snapshot(300, 100, 2000);
  assert.equal(p.rateBytesPerSecond, 150);
  assert.equal(p.etaSeconds, 5);
  // Past a stale estimate: no ETA rather than a wrong one.
  const late = t.snapshot(1500, 600, 3000);
  assert.equal(late.etaSeconds, undefined);
  assert.equal(late.estimatedTotalBytes, undefined);
  // Old samples leave the window.
  const far = t.snapshot(1500, 600, 30_000);
  assert.equal(far.rateBytesPerSecond, 0);
});
