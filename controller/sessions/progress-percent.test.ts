import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runningPercent } from './progress-percent.ts';

test('the percent of a running session: floor of done/estimate, at most 99, none without an estimate', () => {
  const table: [number, number | undefined, number | undefined][] = [
    [0, 1000, 0],
    [505, 1000, 50],
    [999, 1000, 99],
    [1000, 1000, 99],
    [5000, 1000, 99],
    [10, undefined, undefined],
    [10, 0, undefined],
    [10, -5, undefined],
    [10, Number.POSITIVE_INFINITY, undefined],
  ];
  for (const [bytesDumped, estimatedTotalBytes, want] of table) {
    assert.equal(runningPercent({ bytesDumped, ...(estimatedTotalBytes === undefined ? {} : { estimatedTotalBytes }) }), want, `${bytesDumped}/${estimatedTotalBytes}`);
  }
});

test('a session shows 100% once Succeeded, also without a progress report, and never when it failed', async () => {
  const { finishedStatus } = await import('./finished-status.ts');
  const running = { phase: 'Running' as const, startedAt: '2026-01-01T00:00:00.000Z', progress: { bytesDumped: 900, bytesStored: 100, rateBytesPerSecond: 90, estimatedTotalBytes: 1000, updatedAt: '2026-01-01T00:00:10.000Z', percent: 90 } };
  const now = Date.parse('2026-01-01T00:00:20.000Z');
  const ok = finishedStatus(running, 'BackupSession', { phase: 'Succeeded', bytesRead: 1000 }, now);
  assert.equal(ok.progress?.percent, 100);
  assert.equal(ok.progress?.bytesDumped, 900, 'the last report is kept');
  const quick = finishedStatus({ phase: 'Running', startedAt: '2026-01-01T00:00:00.000Z' }, 'RestoreSession', { phase: 'Succeeded', bytesRead: 2000 }, now);
  assert.deepEqual({ percent: quick.progress?.percent, bytesDumped: quick.progress?.bytesDumped, rate: quick.progress?.rateBytesPerSecond }, { percent: 100, bytesDumped: 2000, rate: 100 });
  const failed = finishedStatus(running, 'BackupSession', { phase: 'Failed', error: { code: 'X', message: 'x' } }, now);
  assert.equal(failed.progress?.percent, 90);
  const cancelled = finishedStatus({ phase: 'Pending' }, 'BackupSession', { phase: 'Cancelled' }, now);
  assert.equal(cancelled.progress, undefined);
});
