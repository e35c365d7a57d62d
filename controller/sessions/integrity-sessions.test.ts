// The integrity check through SessionManager with an injected clock: what a claimed backup is
// asked to check, and where a reported check is recorded (the session and its Repository).
import assert from 'node:assert/strict';
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

function setUp(): { store: Store; sessions: SessionManager; clock: { now: number } } {
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
    store.put({ apiVersion: 'sidestash.io/v1', ...doc } as Parameters<Store['put']>[0]);
  }
  const clock = { now: T0 };
  const sessions = new SessionManager(store, createLogger({}, { level: 'error' }), { leaseMs: 60_000, now: () => clock.now });
  return { store, sessions, clock };
}

describe('integrity checks of backup sessions', () => {
  let s: ReturnType<typeof setUp>;
  beforeEach(() => (s = setUp()));
  const repoStatus = (): RepositoryStatus | undefined => s.store.get<unknown, RepositoryStatus>('Repository', 'default', 'repo')!.status;
  const sessionStatus = (name: string): SessionStatus => s.store.get<unknown, SessionStatus>('BackupSession', 'default', name)!.status!;
  const claim = (config: string): BackupAssignment => {
    s.sessions.createBackupSession('default', config, 'manual');
    const a = s.sessions.claimNext(agent);
    assert.equal(a?.kind, 'BackupSession');
    return a as BackupAssignment;
  };
  const integrity = (a: BackupAssignment, ok: boolean, errors: string[] = []): IntegrityResult => ({ ok, checkedAt: new Date(s.clock.now).toISOString(), ...(a.integrityCheck?.readDataSubset ? { readDataSubset: a.integrityCheck.readDataSubset } : {}), errors });
  const finish = (a: BackupAssignment, result: IntegrityResult, phase: 'Succeeded' | 'Failed' = 'Succeeded'): void => {
    s.sessions.complete('BackupSession', 'default', a.name, agent.name, { phase, snapshotId: SNAPSHOT, integrity: result, ...(phase === 'Failed' ? { error: { code: 'SIDESTASH_DUMP_FAILED', message: 'x' } } : {}) });
  };

  it('the first backup reads the default 5%; the session and the Repository record it; the next reads nothing until 168h later', () => {
    const first = claim('nightly');
    assert.deepEqual(first.integrityCheck, { readDataSubset: '5%' });
    const result = integrity(first, true);
    finish(first, result);
    assert.deepEqual(sessionStatus(first.name).integrity, result);
    // (The Repository's status also records its last backup: controller/sessions/repository-stats.ts.)
    assert.deepEqual(repoStatus(), { lastReadDataCheckAt: new Date(T0).toISOString(), integrity: { ok: true, checkedAt: result.checkedAt, readDataSubset: '5%', session: first.name }, lastBackupTime: new Date(T0).toISOString(), lastBackupSession: first.name });

    s.clock.now = T0 + 167 * HOUR;
    const second = claim('nightly');
    assert.deepEqual(second.integrityCheck, {}, 'a metadata check');
    finish(second, integrity(second, true));
    assert.equal(repoStatus()?.lastReadDataCheckAt, new Date(T0).toISOString());
    assert.equal(repoStatus()?.integrity?.session, second.name);

    s.clock.now = T0 + 168 * HOUR;
    const third = claim('nightly');
    assert.deepEqual(third.integrityCheck, { readDataSubset: '5%' });
  });

  it('configurations sharing a repository share its read schedule', () => {
    const first = claim('nightly');
    finish(first, integrity(first, true));
    s.clock.now = T0 + HOUR;
    // "hourly" reads every 24h, and the repository was read an hour ago by "nightly".
    assert.deepEqual(claim('hourly').integrityCheck, {});
  });

  it('configurations on the same schedule: one reads, the others (claimed while it runs) do not; its end, however it ends, releases the read', () => {
    const first = claim('nightly');
    assert.deepEqual(first.integrityCheck, { readDataSubset: '5%' });
    assert.deepEqual(repoStatus()?.readDataCheckPending, { session: first.name, since: new Date(T0).toISOString() });
    const second = claim('hourly');
    assert.deepEqual(second.integrityCheck, {}, 'the repository is being read by the first');
    // The reading session is lost (its agent stops reporting): the read is no longer pending and was not done.
    s.clock.now = T0 + 10 * 60_000;
    s.sessions.sweep();
    assert.equal(sessionStatus(first.name).phase, 'Failed');
    assert.equal(repoStatus()?.readDataCheckPending, undefined);
    assert.equal(repoStatus()?.lastReadDataCheckAt, undefined);
    const third = claim('nightly');
    assert.deepEqual(third.integrityCheck, { readDataSubset: '5%' }, 'still due');
    finish(third, integrity(third, true));
    assert.equal(repoStatus()?.readDataCheckPending, undefined);
    assert.equal(repoStatus()?.lastReadDataCheckAt, new Date(s.clock.now).toISOString());
  });

  it('a reading session whose configuration is deleted still releases the read', () => {
    const first = claim('nightly');
    s.store.delete('BackupConfiguration', 'default', 'nightly');
    finish(first, integrity(first, true));
    assert.equal(repoStatus()?.readDataCheckPending, undefined);
  });

  it('a configuration with the check disabled gets none', () => {
    assert.equal(claim('unchecked').integrityCheck, undefined);
  });

  it('a failed check keeps the session Succeeded, marks the Repository, and the next check reads all data', () => {
    const first = claim('nightly');
    finish(first, integrity(first, false, ['pack 1234: content does not match its name']));
    assert.equal(sessionStatus(first.name).phase, 'Succeeded');
    assert.equal(sessionStatus(first.name).integrity?.ok, false);
    assert.deepEqual(repoStatus()?.integrity?.errors, ['pack 1234: content does not match its name']);
    s.clock.now = T0 + HOUR;
    const second = claim('nightly');
    assert.deepEqual(second.integrityCheck, { readDataSubset: '100%' });
    finish(second, integrity(second, true));
    assert.equal(repoStatus()?.integrity?.ok, true);
  });

  it('a check reported with a Failed backup is not recorded', () => {
    const first = claim('nightly');
    finish(first, integrity(first, true), 'Failed');
    assert.equal(sessionStatus(first.name).integrity, undefined);
    assert.deepEqual(repoStatus(), {}, 'no check and no read recorded; the pending read released');
  });
});
