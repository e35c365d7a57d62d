// Two configurations whose names share their first 52 characters, on the same schedule: their
// scheduled sessions' names (common/scheduled-name.ts cuts the configuration's name so that the
// whole is a 63-character label) were the same. The second one's run found "its" session already
// there (another configuration's), logged "already created (by another controller)" and was
// skipped: a backup silently not taken, every time both were due. Cut names now carry a hash of
// the whole name; and a session of another configuration holding a run's name (any cause) still
// does not make the run skipped.
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
    const [a, b] = names.map((n) => scheduledSessionName(n, missed.getTime()));
    assert.notEqual(a, b, 'cut names differ by their hash');
    assert.ok(a!.length <= 63 && b!.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(a!), a);
    // The first configuration's session holds the second's scheduled name (as two configurations
    // sharing 52 characters did before names carried a hash).
    await store.create({
      apiVersion: 'sidestash.io/v1', kind: 'BackupSession',
      metadata: { name: b!, namespace: 'shop', creationTimestamp: new Date().toISOString() },
      spec: { invoker: { kind: 'BackupConfiguration', name: names[0]! }, trigger: 'manual' },
      status: { phase: 'Succeeded' },
    } as Resource);
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
    const scheduled = sessions.filter((s) => s.spec.trigger === 'schedule');
    assert.deepEqual(scheduled.map((s) => s.spec.invoker.name).sort(), [...names].sort(), 'one scheduled session for each configuration');
    assert.ok(scheduled.some((s) => s.metadata.name === a), 'the first under its scheduled name');
    // Run again (a second replica's catch-up, a retry): nothing more is created for the first.
    await scheduler.catchUp(10 * 60_000);
    assert.equal((await store.list<BackupSessionSpec>('BackupSession')).filter((s) => s.spec.invoker.name === names[0]).length, 2);
  } finally {
    scheduler.stop();
    store.close();
  }
});
