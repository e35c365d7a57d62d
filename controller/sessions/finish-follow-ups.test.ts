// A finished session's follow-up writes (Repository, configuration, history) fail one at a time,
// and a lost configuration write is made good by the next sweep's replay: the old synchronous
// transaction rolled the whole finish back; the async store commits the session first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../common/log.ts';
import type { AgentRecord } from '../store/store.ts';
import { Store } from '../store/store.ts';
import { replayUnrecordedOutcomes } from './configuration-backfill.ts';
import { seedNightly } from './session-fixture.ts';
import { SessionManager } from './session-manager.ts';

const agent: AgentRecord = { name: 'default/agent-0', tokenSha256: 'x', targets: ['default/db'], version: 't', registeredAt: '', lastSeenAt: '' };

/**
 * A store whose BackupConfiguration status writes fail while `failing.count` > 0 (a full disk, an
 * API server refusing them), a session manager on it, and run(phase): one session claimed and completed.
 */
async function setUp(configuration: Record<string, unknown> = {}) {
  const store = new Store(':memory:');
  await seedNightly(store, configuration);
  const failing = { count: 0 };
  const updateStatus = store.updateStatus.bind(store);
  store.updateStatus = (async (r, o) => {
    if (r.kind === 'BackupConfiguration' && failing.count > 0) {
      failing.count--;
      throw new Error('disk full');
    }
    return updateStatus(r, o);
  }) as Store['updateStatus'];
  let now = Date.parse('2026-03-01T10:00:00Z');
  const sessions = new SessionManager(store, createLogger({}, { write: () => {} }), { leaseMs: 60_000, now: () => now });
  const run = async (phase: 'Succeeded' | 'Failed' = 'Succeeded'): Promise<string> => {
    const created = (await sessions.createBackupSession('default', 'nightly', 'manual'))!;
    await sessions.claimNext(agent);
    now += 1000;
    await sessions.complete('BackupSession', 'default', created.metadata.name, agent.name, phase === 'Failed' ? { phase, error: { code: 'X', message: 'x' } } : { phase, snapshotId: 'a'.repeat(64) });
    now += 1000;
    return created.metadata.name;
  };
  return { store, failing, run };
}

test('a failed configuration write loses neither the session nor the history pruning', async () => {
  const { store, failing, run } = await setUp({ backupHistoryLimit: 1 });
  const first = await run();
  failing.count = 1;
  const second = await run();
  assert.equal((await store.get('BackupSession', 'default', second))?.status?.phase, 'Succeeded', 'the session stands');
  assert.equal(await store.get('BackupSession', 'default', first), undefined, 'pruning still ran after the failed write (history limit 1)');
  // The lost write: the configuration still names the first session (the next test shows the
  // sweep's replay; here, with a history limit of 1, the recorded session is pruned, so a replay
  // cannot place the newer one in time and the next finish records its own outcome).
  const cfg = await store.get('BackupConfiguration', 'default', 'nightly');
  assert.equal((cfg?.status as { lastFinishedSession?: string }).lastFinishedSession, first);
  store.close();
});

test('the replay after a lost configuration write: the outcome arrives with the next sweep, once', async () => {
  const { store, failing, run } = await setUp();
  const first = await run('Succeeded');
  failing.count = 1;
  const second = await run('Failed');
  const status = async () => (await store.get('BackupConfiguration', 'default', 'nightly'))?.status as { lastFinishedSession?: string; consecutiveFailures?: number };
  assert.equal((await status()).lastFinishedSession, first, 'the write was lost');
  assert.equal(await replayUnrecordedOutcomes(store), 1);
  assert.deepEqual([(await status()).lastFinishedSession, (await status()).consecutiveFailures], [second, 1]);
  assert.equal(await replayUnrecordedOutcomes(store), 0);
  store.close();
});
