// A finished BackupSession's own write is synced; of the writes derived from it, those that what
// runs anyway makes good are relaxed (finish-durability.ts): on sqlite, the statements around each
// write show which; and a power loss right after a finish (its relaxed writes never reached the
// disk) leaves a state that the restart's start-up steps and the next finish bring back.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLogger } from '../../common/log.ts';
import type { SessionResult } from '../../common/protocol.ts';
import type { BackupConfigurationStatus, RepositoryStatus, SessionStatus } from '../resources/types.ts';
import type { Precondition } from '../store/resource-store.ts';
import type { AgentRecord } from '../store/store.ts';
import { Store } from '../store/store.ts';
import { backfillConfigurationStatus, replayUnrecordedOutcomes } from './configuration-backfill.ts';
import { derivedWriteDurability } from './finish-durability.ts';
import type { DerivedWrite } from './finish-durability.ts';
import type { RepositoryBackupStats } from './repository-stats.ts';
import { seedNightly } from './session-fixture.ts';
import { SessionManager } from './session-manager.ts';

const KEY = { text: Buffer.alloc(32, 5).toString('base64'), setting: 'a test key' };
const agent: AgentRecord = { name: 'default/agent-0', tokenSha256: 'x', targets: ['default/db'], version: 't', registeredAt: '', lastSeenAt: '' };
const dir = mkdtempSync(join(tmpdir(), 'sidestash-finish-durability-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const checked = (ok: boolean, readDataSubset?: string): NonNullable<SessionResult['integrity']> => ({ ok, checkedAt: '2026-03-01T10:00:00.000Z', errors: ok ? [] : ['pack 1234 damaged'], ...(readDataSubset ? { readDataSubset } : {}) });
const succeeded = (integrity?: SessionResult['integrity']): SessionResult => ({ phase: 'Succeeded', snapshotId: 'a'.repeat(64), repositoryStats: { sizeBytes: 100, snapshotCount: 1 }, ...(integrity ? { integrity } : {}) });

/** A session manager on `store`, and run(result): one session created, claimed and completed; returns its name. */
function manager(store: Store, clock: { now: number }) {
  const sessions = new SessionManager(store, createLogger({}, { write: () => {} }), { leaseMs: 60_000, now: () => clock.now });
  const run = async (result: SessionResult): Promise<string> => {
    const created = (await sessions.createBackupSession('default', 'nightly', 'manual'))!;
    assert.ok(await sessions.claimNext(agent), 'claimed');
    clock.now += 1000;
    await sessions.complete('BackupSession', 'default', created.metadata.name, agent.name, result);
    clock.now += 1000;
    return created.metadata.name;
  };
  return { sessions, run };
}

test('which derived writes are relaxed', () => {
  const table: [DerivedWrite, { integrityOk?: boolean }, 'relaxed' | undefined][] = [
    ['configuration', {}, 'relaxed'],
    ['prune', {}, 'relaxed'],
    ['repositoryBackup', {}, 'relaxed'],
    ['integrity', { integrityOk: true }, 'relaxed'],
    ['integrity', { integrityOk: false }, undefined],
    ['integrity', {}, undefined],
    ['readDataMarker', {}, undefined],
  ];
  for (const [write, facts, want] of table) assert.equal(derivedWriteDurability(write, facts), want, `${write} ${JSON.stringify(facts)}`);
});

test('on sqlite a finish syncs the session\'s own write, a failed check\'s record and the read-data marker, and relaxes the rest', async () => {
  const store = new Store(join(dir, 'statements.db'), { encryptionKey: KEY });
  try {
    await seedNightly(store, { backupHistoryLimit: 1 });
    const clock = { now: Date.parse('2026-03-01T10:00:00Z') };
    const { sessions } = manager(store, clock);
    // While `current` names a session being finished: each write's label, then the statements its transaction ran.
    let current: string | undefined;
    const log: string[] = [];
    const exec = store.db.exec.bind(store.db);
    store.db.exec = (sql: string) => (current !== undefined && log.push(sql), exec(sql));
    const updateStatus = store.updateStatus.bind(store);
    store.updateStatus = (async (r, o) => {
      const st = (r.status ?? {}) as RepositoryStatus & RepositoryBackupStats;
      const what = r.kind !== 'Repository' ? r.kind : st.lastBackupSession === current ? 'Repository backup' : st.integrity?.session === current ? 'Repository integrity' : 'Repository read-data marker';
      if (current !== undefined) log.push(`> ${what}`);
      return updateStatus(r, o);
    }) as Store['updateStatus'];
    const del = store.delete.bind(store);
    store.delete = (async (kind, ns, name, o) => (current !== undefined && log.push(`> delete ${kind}`), del(kind, ns, name, o))) as Store['delete'];
    /** The writes of one session's finish with `result`, each with whether it was synced. */
    const finish = async (result: SessionResult): Promise<[string, 'synced' | 'relaxed'][]> => {
      const created = (await sessions.createBackupSession('default', 'nightly', 'manual'))!;
      assert.ok(await sessions.claimNext(agent), 'claimed');
      clock.now += 1000;
      [current, log.length] = [created.metadata.name, 0];
      try {
        await sessions.complete('BackupSession', 'default', created.metadata.name, agent.name, result);
      } finally {
        current = undefined;
      }
      clock.now += 1000;
      return log.join('\n').split('> ').slice(1).map((chunk) => {
        const [label, ...statements] = chunk.trim().split('\n');
        const relaxed = statements[0] === 'PRAGMA synchronous = NORMAL' && statements.at(-1) === 'PRAGMA synchronous = FULL';
        assert.ok(relaxed || !statements.some((q) => /synchronous/i.test(q)), `${label}: ${statements.join('; ')}`);
        assert.ok(statements.includes('COMMIT'), `${label} committed: ${statements.join('; ')}`);
        return [label!, relaxed ? 'relaxed' : 'synced'];
      });
    };

    // The first backup into a Repository reads pack data (never read): its claim marks it, its finish clears the marker.
    assert.deepEqual(await finish(succeeded(checked(true, '5%'))), [
      ['BackupSession', 'synced'],
      ['Repository read-data marker', 'synced'],
      ['Repository integrity', 'relaxed'],
      ['Repository backup', 'relaxed'],
      ['BackupConfiguration', 'relaxed'],
    ]);
    // A failed check's record is synced; the first session goes beyond the history limit of 1.
    assert.deepEqual(await finish(succeeded(checked(false))), [
      ['BackupSession', 'synced'],
      ['Repository integrity', 'synced'],
      ['Repository backup', 'relaxed'],
      ['BackupConfiguration', 'relaxed'],
      ['delete BackupSession', 'relaxed'],
    ]);
    assert.equal((store.db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous, 2, 'FULL again after the finish');
  } finally {
    store.close();
  }
});

/**
 * Makes the relaxed writes that follow arm() vanish as a power loss would take them: not stored,
 * answered as if stored. A synced write after one of them would have made it durable (a WAL keeps
 * its commits in order), so that fails the test: the lost writes must be the tail.
 */
function powerLossAfter(store: Store) {
  const state = { armed: false, lost: [] as string[] };
  const updateStatus = store.updateStatus.bind(store);
  const del = store.delete.bind(store);
  const synced = (what: string): void => assert.equal(state.lost.length, 0, `${what} is synced after relaxed writes (${state.lost.join(', ')}): they would not be lost`);
  store.updateStatus = (async (r, o: Precondition) => {
    if (!state.armed) return updateStatus(r, o);
    if (o.durability !== 'relaxed') return (synced(`${r.kind} ${r.metadata.name}`), updateStatus(r, o));
    state.lost.push(r.kind);
    return r;
  }) as Store['updateStatus'];
  store.delete = (async (kind, ns, name, o = {}) => {
    if (!state.armed) return del(kind, ns, name, o);
    if (o.durability !== 'relaxed') return (synced(`delete ${kind} ${name}`), del(kind, ns, name, o));
    state.lost.push(`delete ${kind}`);
    return true;
  }) as Store['delete'];
  return state;
}

/** The leader's start-up steps after a restart, in leader-work.ts's order: backfill, sweep, replay. */
async function restart(path: string, clock: { now: number }) {
  const store = new Store(path, { encryptionKey: KEY });
  const m = manager(store, clock);
  await backfillConfigurationStatus(store);
  await m.sessions.sweep();
  await replayUnrecordedOutcomes(store);
  return { store, ...m };
}

const configurationStatus = async (store: Store) => (await store.get<unknown, BackupConfigurationStatus>('BackupConfiguration', 'default', 'nightly'))?.status;
const repositoryStatus = async (store: Store) => (await store.get<unknown, RepositoryStatus & RepositoryBackupStats>('Repository', 'default', 'repo'))?.status;
const history = async (store: Store) => (await store.list<unknown, SessionStatus>('BackupSession')).map((s) => s.metadata.name).sort();

test('a power loss after a finish loses its relaxed writes only; the restart replays the outcome, the next finish prunes and records the Repository', async () => {
  const path = join(dir, 'power-loss.db');
  const clock = { now: Date.parse('2026-03-01T10:00:00Z') };
  let store = new Store(path, { encryptionKey: KEY });
  await seedNightly(store, { backupHistoryLimit: 1 });
  const first = await manager(store, clock).run(succeeded(checked(true, '5%')));
  const loss = powerLossAfter(store);
  loss.armed = true;
  const second = await manager(store, clock).run({ phase: 'Failed', error: { code: 'DUMP_FAILED', message: 'x' } });
  assert.deepEqual(loss.lost, ['BackupConfiguration', 'delete BackupSession'], 'what the power took: the outcome on the configuration, the prune');
  store.close();

  const again = await restart(path, clock);
  store = again.store;
  try {
    assert.equal((await store.get<unknown, SessionStatus>('BackupSession', 'default', second))?.status?.phase, 'Failed', 'the session\'s own write survived');
    const cfg = await configurationStatus(store);
    assert.deepEqual([cfg?.lastFinishedSession, cfg?.lastFinishedPhase, cfg?.consecutiveFailures], [second, 'Failed', 1], 'replayed at the restart');
    assert.deepEqual(await history(store), [first, second].sort(), 'one session beyond the limit until the next finish');
    const third = await again.run(succeeded(checked(true)));
    assert.deepEqual(await history(store), [third], 'the next finish prunes all beyond the limit');
    assert.equal((await repositoryStatus(store))?.lastBackupSession, third);
    assert.deepEqual([(await configurationStatus(store))?.lastFinishedSession, (await configurationStatus(store))?.consecutiveFailures], [third, 0]);
  } finally {
    store.close();
  }
});

test('a power loss after a configuration\'s first finish: the start-up backfill records it, and the Repository\'s record waits for the next backup', async () => {
  const path = join(dir, 'first-finish.db');
  const clock = { now: Date.parse('2026-03-01T10:00:00Z') };
  let store = new Store(path, { encryptionKey: KEY });
  await seedNightly(store);
  const loss = powerLossAfter(store);
  loss.armed = true;
  const first = await manager(store, clock).run(succeeded(checked(true, '5%')));
  assert.deepEqual(loss.lost, ['Repository', 'Repository', 'BackupConfiguration'], 'the check, the backup on the Repository, the outcome');
  store.close();

  const again = await restart(path, clock);
  store = again.store;
  try {
    const cfg = await configurationStatus(store);
    assert.deepEqual([cfg?.lastFinishedSession, cfg?.lastFinishedPhase, cfg?.consecutiveFailures], [first, 'Succeeded', 0], 'rebuilt by the start-up backfill');
    const repo = await repositoryStatus(store);
    assert.equal(repo?.lastBackupSession, undefined, 'lost: display only, made good by the next backup');
    assert.equal(repo?.readDataCheckPending, undefined, 'the marker\'s clearing was synced');
    const second = await again.run(succeeded(checked(true)));
    assert.deepEqual([(await repositoryStatus(store))?.lastBackupSession, (await repositoryStatus(store))?.integrity?.session], [second, second]);
    assert.equal((await configurationStatus(store))?.lastFinishedSession, second);
  } finally {
    store.close();
  }
});
