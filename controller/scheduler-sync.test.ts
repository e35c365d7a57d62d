// Scheduler.sync called many times at once (every configuration of one apply) reads the
// configurations twice at most, and what changed while a sync ran is in the schedules after.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createLogger } from '../common/log.ts';
import type { BackupConfigurationStatus, Resource } from './resources/types.ts';
import { Scheduler } from './scheduler.ts';
import { SessionManager } from './sessions/session-manager.ts';
import { Store } from './store/store.ts';
import { upsert } from './store/upsert.ts';

const quiet = createLogger({}, { level: 'error' });
const config = (name: string, schedule: string) => ({ apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name, namespace: 'default' }, spec: { schedule, repository: { name: 'repo' }, target: { ref: { name: 'db' } } } }) as Resource;

it('many syncs at once read the configurations at most twice, and a change made meanwhile is scheduled', async () => {
  const store = new Store(':memory:');
  for (let i = 0; i < 30; i++) await upsert(store, config(`c-${i}`, '0 3 * * *'));
  const scheduler = new Scheduler(store, new SessionManager(store, quiet, { leaseMs: 60_000 }), quiet);
  let lists = 0;
  const list = store.list.bind(store);
  store.list = ((...args: Parameters<Store['list']>) => {
    if (args[0] === 'BackupConfiguration') lists++;
    return list(...args);
  }) as Store['list'];
  try {
    const first = scheduler.sync();
    // Changed after the first sync read them: the later calls' shared sync reads it.
    await upsert(store, config('late', '0 4 * * *'));
    await Promise.all([first, ...Array.from({ length: 30 }, () => scheduler.sync())]);
    assert.equal(lists, 2);
    const late = await store.get<unknown, BackupConfigurationStatus>('BackupConfiguration', 'default', 'late');
    assert.match(late?.status?.nextScheduleTime ?? '', /T04:00:00/);
    const all = await list<unknown, BackupConfigurationStatus>('BackupConfiguration');
    assert.equal(all.filter((c) => c.status?.nextScheduleTime !== undefined).length, 31);
    // Afterwards a sync reads them again, once.
    await scheduler.sync();
    assert.equal(lists, 3);
  } finally {
    scheduler.stop();
    store.close();
  }
});

it('a configuration deleted and applied again (same spec, new uid) between two syncs is scheduled as the new one', async () => {
  const store = new Store(':memory:');
  const scheduler = new Scheduler(store, new SessionManager(store, quiet, { leaseMs: 60_000 }), quiet);
  try {
    await upsert(store, config('c', '0 3 * * *'));
    await scheduler.sync();
    const old = await store.get('BackupConfiguration', 'default', 'c');
    // Both while no sync runs in between (they land together in the one sync queued behind a running one).
    await store.delete('BackupConfiguration', 'default', 'c');
    await upsert(store, config('c', '0 3 * * *'));
    const again = await store.get<unknown, BackupConfigurationStatus>('BackupConfiguration', 'default', 'c');
    assert.notEqual(again?.metadata.uid, old?.metadata.uid);
    await scheduler.sync();
    const now = await store.get<unknown, BackupConfigurationStatus>('BackupConfiguration', 'default', 'c');
    // The job kept from the deleted configuration carried its uid: its runs delayed by jitter fired for
    // the old uid and were dropped (#fire's uid check), and the new configuration's status was never written.
    assert.match(now?.status?.nextScheduleTime ?? '', /T03:00:00/, 'the new configuration has its schedule');
  } finally {
    scheduler.stop();
    store.close();
  }
});
