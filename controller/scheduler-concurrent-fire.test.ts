// Two firings of the same scheduled time at once (a new leader's catch-up beside its take-over
// of a run waiting out its jitter, or two catch-ups): one session, and no skipped overlap
// counted. Concurrently both found no session by the run's name; the second then found the
// first's session active and counted `skippedOverlaps` for a run that was not skipped
// (test/kube-e2e.test.ts saw it once after a leader was killed).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createLogger } from '../common/log.ts';
import type { BackupConfigurationStatus, BackupSessionSpec, Resource } from './resources/types.ts';
import { Scheduler } from './scheduler.ts';
import { SessionManager } from './sessions/session-manager.ts';
import { Store } from './store/store.ts';

const quiet = createLogger({}, { level: 'error' });

it('the same missed run fired twice at once makes one session and counts no overlap', async () => {
  const store = new Store(':memory:');
  const scheduler = new Scheduler(store, new SessionManager(store, quiet, { leaseMs: 60_000 }), quiet);
  try {
    const missed = new Date(Date.now() - 120_000);
    missed.setUTCSeconds(0, 0);
    await store.create({
      apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration',
      metadata: { name: 'nightly', namespace: 'shop', creationTimestamp: new Date(Date.now() - 86_400_000).toISOString() },
      spec: { schedule: `${missed.getUTCMinutes()} ${missed.getUTCHours()} * * *`, repository: { name: 'repo' }, target: { ref: { name: 'db' } } },
    } as Resource);
    await scheduler.sync();
    await Promise.all([scheduler.catchUp(10 * 60_000), scheduler.catchUp(10 * 60_000)]);
    const sessions = await store.list<BackupSessionSpec>('BackupSession');
    assert.equal(sessions.length, 1);
    const cfg = await store.get<unknown, BackupConfigurationStatus>('BackupConfiguration', 'shop', 'nightly');
    assert.equal(cfg?.status?.skippedOverlaps ?? 0, 0, 'no overlap was skipped');
    assert.equal(cfg?.status?.lastSessionName, sessions[0]!.metadata.name);
  } finally {
    scheduler.stop();
    store.close();
  }
});
