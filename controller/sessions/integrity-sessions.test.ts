// The integrity check through SessionManager with an injected clock: what a claimed backup is
// asked to check, and where a reported check is recorded (the session and its Repository).
import assert from 'node:assert/strict';
import { upsert } from '../store/upsert.ts';
import { beforeEach, describe, it } from 'node:test';
import { createLogger } from '../../common/log.ts';
import type { BackupAssignment, IntegrityResult } from '../../common/protocol.ts';
import type { RepositoryStatus, SessionStatus } from '../resources/types.ts';
import type { AgentRecord } from '../store/store.ts';
import { Store } from '../store/store.ts';
import { SessionManager } from './session-manager.ts';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const HOUR = 3_600_000;
const agent: AgentRecord = { name: 'default/agent-0', tokenSha256: 'x', targets: ['default/db'], version: 't', registeredAt: '', lastSeenAt: '' };
const SNAPSHOT = 'a'.repeat(64);

async function setUp(): Promise<{ store: Store; sessions: SessionManager; clock: { now: number } }> {
  const store = new Store(':memory:');
  const meta = (name: string) => ({ name, namespace: 'default' });
  const config = (name: string, extra: Record<string, unknown> = {}) => ({ kind: 'BackupConfiguration', metadata: meta(name), spec: { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } }, ...extra } });
  for (const doc of [
    { kind: 'Secret', metadata: meta('repo-secret'), spec: { stringData: { RESTIC_PASSWORD: 'pw' } } },
    { kind: 'Secret', metadata: meta('db-secret'), spec: { stringData: { username: 'u', password: 'p' } } },
    { kind: 'Repository', metadata: meta('repo'), spec: { backend: { local: { path: '/tmp/repo' }, storageSecretName: 'repo-secret' } } },
    { kind: 'AppBinding', metadata: meta('db'), spec: { clientConfig: { socket: '/run/mysqld/mysqld.sock' }, secret: { name: 'db-secret' } } },
    config('nightly'),
    config('hourly', { integrityCheck: { readDataSubset: '1/4', readDataInterval: '24h' } }),
    config('unchecked', { integrityCheck: { enabled: false } }),
  ]) {
    (await upsert(store, { apiVersion: 'sidestash.io/v1', ...doc } as Parameters<Store['create']>[0]));
  }
  const clock = { now: T0 };
  const sessions = new SessionManager(store, createLogger({}, { level: 'error' }), { leaseMs: 60_000, now: () => clock.now });
  return { store, sessions, clock };
}

describe('integrity checks of backup sessions', () => {
  let s: Awaited<ReturnType<typeof setUp>>;
  beforeEach(async () => (s = await setUp()));
  const repoStatus = async (): Promise<RepositoryStatus | undefined> => (await s.store.get<unknown, RepositoryStatus>('Repository', 'default', 'repo'))!.status;
  const sessionStatus = async (name: string): Promise<SessionStatus> => (await s.store.get<unknown, SessionStatus>('BackupSession', 'default', name))!.status!;
  const claim = async (config: string): Promise<BackupAssignment> => {
    (await s.sessions.createBackupSession('default', config, 'manual'));
    const a = (await s.sessions.claimNext(agent));
    assert.equal(a?.kind, 'BackupSession');
    return a as BackupAssignment;
  };
  const integrity = (a: BackupAssignment, ok: boolean, errors: string[] = []): IntegrityResult => ({ ok, checkedAt: new Date(s.clock.now).toISOString(), ...(a.integrityCheck?.readDataSubset ? { readDataSubset: a.integrityCheck.readDataSubset } : {}), errors });
  const finish = async (a: BackupAssignment, result: IntegrityResult, phase: 'Succeeded' | 'Failed' = 'Succeeded'): Promise<void> => {
    (await s.sessions.complete('BackupSession', 'default', a.name, agent.name, { phase, snapshotId: SNAPSHOT, integrity: result, ...(phase === 'Failed' ? { error: { code: 'SIDESTASH_DUMP_FAILED', message: 'x' } } : {}) }));
  };

  it('the first backup reads the default 5%; the session and the Repository record it; the next reads nothing until 168h later', async () => {
    const first = (await claim('nightly'));
    assert.deepEqual(first.integrityCheck, { readDataSubset: '5%' });
    const result = integrity(first, true);
    (await finish(first, result));
    assert.deepEqual((await sessionStatus(first.name)).integrity, result);
    // (The Repository's status also records its last backup: controller/sessions/repository-stats.ts.)
    assert.deepEqual((await repoStatus()), { lastReadDataCheckAt: new Date(T0).toISOString(), integrity: { ok: true, checkedAt: result.checkedAt, readDataSubset: '5%', session: first.name }, lastBackupTime: new Date(T0).toISOString(), lastBackupSession: first.name });

    s.clock.now = T0 + 167 * HOUR;
    const second = (await claim('nightly'));
    assert.deepEqual(second.integrityCheck, {}, 'a metadata check');
    (await finish(second, integrity(second, true)));
    assert.equal((await repoStatus())?.lastReadDataCheckAt, new Date(T0).toISOString());
    assert.equal((await repoStatus())?.integrity?.session, second.name);

    s.clock.now = T0 + 168 * HOUR;
    const third = (await claim('nightly'));
    assert.deepEqual(third.integrityCheck, { readDataSubset: '5%' });
  });

  it('configurations sharing a repository share its read schedule', async () => {
    const first = (await claim('nightly'));
    (await finish(first, integrity(first, true)));
    s.clock.now = T0 + HOUR;
    // "hourly" reads every 24h, and the repository was read an hour ago by "nightly".
    assert.deepEqual((await claim('hourly')).integrityCheck, {});
  });

  it('configurations on the same schedule: one reads, the others (claimed while it runs) do not; its end, however it ends, releases the read', async () => {
    const first = (await claim('nightly'));
    assert.deepEqual(first.integrityCheck, { readDataSubset: '5%' });
    assert.deepEqual((await repoStatus())?.readDataCheckPending, { session: first.name, since: new Date(T0).toISOString() });
    const second = (await claim('hourly'));
    assert.deepEqual(second.integrityCheck, {}, 'the repository is being read by the first');
    // The reading session is lost (its agent stops reporting): the read is no longer pending and was not done.
    s.clock.now = T0 + 10 * 60_000;
    (await s.sessions.sweep());
    assert.equal((await sessionStatus(first.name)).phase, 'Failed');
    assert.equal((await repoStatus())?.readDataCheckPending, undefined);
    assert.equal((await repoStatus())?.lastReadDataCheckAt, undefined);
    const third = (await claim('nightly'));
    assert.deepEqual(third.integrityCheck, { readDataSubset: '5%' }, 'still due');
    (await finish(third, integrity(third, true)));
    assert.equal((await repoStatus())?.readDataCheckPending, undefined);
    assert.equal((await repoStatus())?.lastReadDataCheckAt, new Date(s.clock.now).toISOString());
  });

  it('a reading session whose configuration is deleted still releases the read', async () => {
    const first = (await claim('nightly'));
    (await s.store.delete('BackupConfiguration', 'default', 'nightly'));
    (await finish(first, integrity(first, true)));
    assert.equal((await repoStatus())?.readDataCheckPending, undefined);
  });

  it('a configuration with the check disabled gets none', async () => {
    assert.equal((await claim('unchecked')).integrityCheck, undefined);
  });

  it('a failed check keeps the session Succeeded, marks the Repository, and the next check reads all data', async () => {
    const first = (await claim('nightly'));
    (await finish(first, integrity(first, false, ['pack 1234: content does not match its name'])));
    assert.equal((await sessionStatus(first.name)).phase, 'Succeeded');
    assert.equal((await sessionStatus(first.name)).integrity?.ok, false);
    assert.deepEqual((await repoStatus())?.integrity?.errors, ['pack 1234: content does not match its name']);
    s.clock.now = T0 + HOUR;
    const second = (await claim('nightly'));
    assert.deepEqual(second.integrityCheck, { readDataSubset: '100%' });
    (await finish(second, integrity(second, true)));
    assert.equal((await repoStatus())?.integrity?.ok, true);
  });

  it('a check reported with a Failed backup is not recorded', async () => {
    const first = (await claim('nightly'));
    (await finish(first, integrity(first, true), 'Failed'));
    assert.equal((await sessionStatus(first.name)).integrity, undefined);
    assert.deepEqual((await repoStatus()), {}, 'no check and no read recorded; the pending read released');
  });
});
