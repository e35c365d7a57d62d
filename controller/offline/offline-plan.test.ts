// An agent's offline plan (offline-plan.ts): its own targets' unpaused configurations only,
// each with what a session of it would be given, the scheduler's jitter and the timeout; a
// configuration whose resources are broken is left out, not the whole plan.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createLogger } from '../../common/log.ts';
import { scheduleJitterMs } from '../schedule-jitter.ts';
import { seedNightly } from '../sessions/session-fixture.ts';
import { Store } from '../store/store.ts';
import { upsert } from '../store/upsert.ts';
import type { Resource } from '../resources/types.ts';
import { offlinePlan } from './offline-plan.ts';

const log = createLogger({}, { level: 'error' });

it('holds the agent\'s targets\' unpaused configurations with their assignment, jitter and timeout', async () => {
  const store = new Store(':memory:');
  await seedNightly(store, { schedule: '0 * * * *', timeout: '2h', retentionPolicy: { name: 'keep', keepLast: 3, prune: true } });
  const cfg = (name: string, spec: Record<string, unknown>) => upsert(store, { apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name, namespace: 'default' }, spec: { schedule: '0 * * * *', repository: { name: 'repo' }, ...spec } } as Resource);
  await cfg('paused', { target: { ref: { name: 'db' } }, paused: true });
  await cfg('other-target', { target: { ref: { name: 'other-db' } } });
  await upsert(store, { apiVersion: 'sidestash.io/v1', kind: 'AppBinding', metadata: { name: 'broken', namespace: 'default' }, spec: { clientConfig: { socket: '/run/mysqld/mysqld.sock' }, secret: { name: 'missing-secret' } } } as Resource);
  await cfg('broken', { target: { ref: { name: 'broken' } } });
  const plan = await offlinePlan(store, { name: 'default/agent-0', targets: ['default/db', 'default/broken'] }, 30_000, log);
  assert.deepEqual(plan.configurations.map((c) => c.name), ['nightly']);
  const c = plan.configurations[0]!;
  const uid = (await store.get('BackupConfiguration', 'default', 'nightly'))!.metadata.uid!;
  assert.equal(c.uid, uid);
  assert.equal(c.schedule, '0 * * * *');
  assert.equal(c.timeoutMs, 2 * 3_600_000);
  assert.equal(c.jitterMs, scheduleJitterMs(`default/nightly/${uid}`, 30_000, 3_600_000));
  assert.equal(c.assignment.invoker, 'nightly');
  assert.equal(c.assignment.target, 'default/db');
  assert.equal(c.assignment.repository.password, 'pw');
  assert.equal(c.assignment.database.password, 'p');
  assert.equal(c.assignment.retentionPolicy?.keepLast, 3);
  assert.equal((c.assignment as { name?: string }).name, undefined);
  // Another agent, another target: nothing.
  assert.deepEqual(await offlinePlan(store, { name: 'default/agent-1', targets: ['default/other'] }, 30_000, log), { configurations: [] });
});
