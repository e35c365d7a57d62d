// An upgraded controller rebuilds each configuration's outcome from the session history it has.
import assert from 'node:assert/strict';
import { upsert } from '../store/upsert.ts';
import { describe, it } from 'node:test';
import { Store } from '../store/store.ts';
import { backfillConfigurationStatus, statusFromHistory } from './configuration-backfill.ts';

describe('configuration status backfill', () => {
  it('replays finished sessions by finish time, whatever their order, and skips unfinished ones', async () => {
    const st = statusFromHistory({ nextScheduleTime: 'N' }, [
      { name: 'c', status: { phase: 'Failed', finishedAt: '2026-03-03T00:00:00Z', durationSeconds: 2 } },
      { name: 'a', status: { phase: 'Succeeded', finishedAt: '2026-03-01T00:00:00Z', durationSeconds: 9 } },
      { name: 'd', status: { phase: 'Running' } },
      { name: 'b', status: { phase: 'Failed', finishedAt: '2026-03-02T00:00:00Z' } },
    ]);
    assert.deepEqual(st, { nextScheduleTime: 'N', lastFinishedPhase: 'Failed', lastFinishedSession: 'c', lastDurationSeconds: 2, lastSuccessTime: '2026-03-01T00:00:00Z', consecutiveFailures: 2 });
  });

  it('fills in configurations without an outcome only, once', async () => {
    const store = new Store(':memory:');
    const put = async (kind: 'BackupConfiguration' | 'BackupSession', name: string, spec: Record<string, unknown>, status?: Record<string, unknown>) =>
      (await upsert(store, { apiVersion: 'sidestash.io/v1', kind, metadata: { name, namespace: 'default' }, spec, ...(status ? { status } : {}) }));
    const cfg = { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } };
    await put('BackupConfiguration', 'upgraded', cfg, { nextScheduleTime: 'N' });
    await put('BackupConfiguration', 'recorded', cfg, { lastFinishedPhase: 'Failed', consecutiveFailures: 7 });
    await put('BackupConfiguration', 'never-ran', cfg);
    for (const invoker of ['upgraded', 'recorded']) await put('BackupSession', `${invoker}-1`, { invoker: { kind: 'BackupConfiguration', name: invoker } }, { phase: 'Succeeded', finishedAt: '2026-03-01T00:00:00Z', durationSeconds: 5 });
    await put('BackupSession', 'upgraded-2', { invoker: { kind: 'BackupConfiguration', name: 'upgraded' } }, { phase: 'Pending' });
    assert.equal((await backfillConfigurationStatus(store)), 1);
    const status = async (name: string) => (await store.get('BackupConfiguration', 'default', name))?.status;
    assert.deepEqual(await status('upgraded'), { nextScheduleTime: 'N', lastFinishedPhase: 'Succeeded', lastFinishedSession: 'upgraded-1', lastDurationSeconds: 5, lastSuccessTime: '2026-03-01T00:00:00Z', consecutiveFailures: 0 });
    assert.deepEqual(await status('recorded'), { lastFinishedPhase: 'Failed', consecutiveFailures: 7 }, 'a recorded outcome is never rewritten from history');
    assert.equal(await status('never-ran'), undefined);
    assert.equal((await backfillConfigurationStatus(store)), 0);
    store.close();
  });
});
