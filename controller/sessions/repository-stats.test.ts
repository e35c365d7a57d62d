import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { repositoryStatusAfterBackup } from './repository-stats.ts';

describe('a Repository status after a successful backup', () => {
  it('takes the size and snapshot count the agent measured, and the session as the last backup; keeps the check', () => {
    const integrity = { ok: true, checkedAt: '2026-06-10T11:00:00Z', session: 's0' };
    const next = repositoryStatusAfterBackup({ integrity, sizeBytes: 1, snapshotCount: 1 }, 's1', { phase: 'Succeeded', repositoryStats: { sizeBytes: 5000, snapshotCount: 3 } }, '2026-06-10T12:00:00Z');
    assert.deepEqual(next, { integrity, sizeBytes: 5000, snapshotCount: 3, lastBackupTime: '2026-06-10T12:00:00Z', lastBackupSession: 's1' });
  });

  it('a backup without measurements moves the last backup and keeps the earlier measurements', () => {
    const next = repositoryStatusAfterBackup({ sizeBytes: 10, snapshotCount: 2 }, 's2', { phase: 'Succeeded' }, '2026-06-10T13:00:00Z');
    assert.deepEqual(next, { sizeBytes: 10, snapshotCount: 2, lastBackupTime: '2026-06-10T13:00:00Z', lastBackupSession: 's2' });
  });
});
