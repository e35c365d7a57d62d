// Two configurations whose names share their first 52 characters, on the same schedule: their
// scheduled sessions' names (common/scheduled-name.ts cuts the configuration's name so that the
// whole is a 63-character label) are the same. The second one's run found "its" session already
// there (another configuration's), logged "already created (by another controller)" and was
// skipped: a backup silently not taken, every time both were due.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { scheduledSessionName } from '../common/scheduled-name.ts';
import { createLogger } from '../common/log.ts';
import type { BackupSessionSpec, Resource } from './resources/types.ts';
import { Scheduler } from './scheduler.ts';
import { SessionManager } from './sessions/session-manager.ts';
import { Store } from './store/store.ts';

const quiet = createLogger({}, { level: 'error' });

it('configurations whose scheduled session names collide each get their scheduled run', async () => {
  const store = new Store(':memory:');
  const scheduler = new Scheduler(store, new SessionManager(store, quiet, { leaseMs: 60_000 }), quiet);
  try {
    const missed = new Date(Date.now() - 120_000);
    missed.setUTCSeconds(0, 0);
    const schedule = `${missed.getUTCMinutes()} ${missed.getUTCHours()} * * *`;
    const prefix = 'customer-orders-database-production-eu-west-1-primary';
    const names = [`${prefix}-nightly`, `${prefix}-offsite`];
    assert.equal(scheduledSessionName(names[0]!, missed.getTime()), scheduledSessionName(names[1]!, missed.getTime()), 'the names do collide');
    for (const name of names) {
      await store.create({
        apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration',
        metadata: { name, namespace: 'shop', creationTimestamp: new Date(Date.now() - 86_400_000).toISOString() },
        spec: { schedule, repository: { name: 'repo' }, target: { ref: { name: 'db' } } },
      } as Resource);
    }
    await scheduler.sync();
    await scheduler.catchUp(10 * 60_000);
    const sessions = await store.list<BackupSessionSpec>('BackupSession');
    assert.deepEqual(sessions.map((s) => s.spec.invoker.name).sort(), [...names].sort(), 'one scheduled session for each configuration');
    // Run again (a second replica's catch-up, a retry): nothing more is created for either.
    await scheduler.catchUp(10 * 60_000);
    assert.equal((await store.list('BackupSession')).length, 2);
  } finally {
    scheduler.stop();
    store.close();
  }
});
