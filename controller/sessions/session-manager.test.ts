// SessionManager with an injected clock and an in-memory store: leases, deadlines, cancels and
// session names, decided at exact instants instead of wall-clock sleeps.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import type { SessionResult } from '../../common/protocol.ts';
import type { BackupConfigurationStatus, SessionStatus } from '../resources/types.ts';
import { Scheduler } from '../scheduler.ts';
import type { AgentRecord } from '../store/store.ts';
import { Store } from '../store/store.ts';
import { SessionManager } from './session-manager.ts';
import { resultAfterCancel } from './timeout-outcome.ts';

const LEASE_MS = 60_000;
const GRACE_MS = 30_000;
const PENDING_MS = 5 * 60_000;
const T0 = Date.parse('2026-03-01T10:00:00Z');
const agent: AgentRecord = { name: 'default/agent-0', tokenSha256: 'x', targets: ['default/db'], version: 't', registeredAt: '', lastSeenAt: '' };
const progress = { bytesDumped: 1, bytesStored: 1, rateBytesPerSecond: 1 };

function setUp(timeout?: string): { store: Store; sessions: SessionManager; clock: { now: number } } {
  const store = new Store(':memory:');
  const meta = (name: string) => ({ name, namespace: 'default' });
  for (const doc of [
    { kind: 'Secret', metadata: meta('repo-secret'), spec: { stringData: { RESTIC_PASSWORD: 'pw' } } },
    { kind: 'Secret', metadata: meta('db-secret'), spec: { stringData: { username: 'u', password: 'p' } } },
    { kind: 'Repository', metadata: meta('repo'), spec: { backend: { local: { path: '/tmp/repo' }, storageSecretName: 'repo-secret' } } },
    { kind: 'AppBinding', metadata: meta('db'), spec: { clientConfig: { socket: '/run/mysqld/mysqld.sock' }, secret: { name: 'db-secret' } } },
    { kind: 'BackupConfiguration', metadata: meta('nightly'), spec: { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } }, ...(timeout ? { timeout } : {}) } },
  ]) {
    store.put({ apiVersion: 'sidestash.io/v1', ...doc } as Parameters<Store['put']>[0]);
  }
  const clock = { now: T0 };
  const sessions = new SessionManager(store, createLogger({}, { level: 'error' }), { leaseMs: LEASE_MS, cancelGraceMs: GRACE_MS, pendingTimeoutMs: PENDING_MS, now: () => clock.now });
  return { store, sessions, clock };
}

describe('SessionManager (injected clock)', () => {
  let s: ReturnType<typeof setUp>;
  const status = (name: string): SessionStatus => (s.store.get('BackupSession', 'default', name)!.status ?? { phase: 'Pending' }) as SessionStatus;
  const start = (): string => {
    const created = s.sessions.createBackupSession('default', 'nightly', 'manual')!;
    const a = s.sessions.claimNext(agent);
    assert.equal(a?.name, created.metadata.name);
    return created.metadata.name;
  };

  describe('leases', () => {
    beforeEach(() => (s = setUp()));

    it('a Running session whose agent keeps reporting is never failed; one that stops is failed AGENT_LOST exactly after its lease', () => {
      const name = start();
      assert.equal(status(name).leaseExpiresAt, new Date(T0 + LEASE_MS).toISOString());
      // Progress every 50 s renews the lease: sweeps in between never fail it, for well past one lease.
      for (let i = 1; i <= 5; i++) {
        s.clock.now = T0 + i * 50_000;
        s.sessions.sweep();
        assert.equal(status(name).phase, 'Running', `sweep at ${i * 50} s`);
        assert.deepEqual(s.sessions.progress('BackupSession', 'default', name, agent.name, progress), { cancel: false });
      }
      const lastReport = T0 + 250_000;
      s.clock.now = lastReport + LEASE_MS; // the lease ends at this instant, not before
      s.sessions.sweep();
      assert.equal(status(name).phase, 'Running');
      s.clock.now = lastReport + LEASE_MS + 1;
      s.sessions.sweep();
      assert.equal(status(name).phase, 'Failed');
      assert.equal(status(name).error?.code, ErrorCodes.AGENT_LOST);
      assert.equal(status(name).leaseExpiresAt, undefined);
      // The lost agent's late result is refused: the session stays as the sweep left it.
      assert.throws(() => s.sessions.complete('BackupSession', 'default', name, agent.name, { phase: 'Succeeded' }), (err) => isSidestashError(err, ErrorCodes.CONFLICT));
      assert.equal(status(name).phase, 'Failed');
    });

    it('renewLease (a result to be checked later) keeps the session alive like progress does', () => {
      const name = start();
      s.clock.now = T0 + LEASE_MS - 1;
      s.sessions.renewLease('BackupSession', 'default', name, agent.name);
      s.clock.now = T0 + 2 * LEASE_MS - 2;
      s.sessions.sweep();
      assert.equal(status(name).phase, 'Running');
      s.clock.now = T0 + 2 * LEASE_MS;
      s.sessions.sweep();
      assert.equal(status(name).error?.code, ErrorCodes.AGENT_LOST);
    });

    it('sessions created in the same second get distinct names, and a configuration never runs twice at once', () => {
      const first = start();
      assert.equal(s.sessions.createBackupSession('default', 'nightly', 'manual'), undefined, 'no overlap');
      s.sessions.complete('BackupSession', 'default', first, agent.name, { phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'x' } });
      const second = s.sessions.createBackupSession('default', 'nightly', 'manual')!.metadata.name;
      assert.notEqual(second, first);
      for (const n of [first, second]) assert.match(n, /^nightly-[bcdfghjklmnpqrstvwxz2456789]{5}$/, 'generateName: the configuration and 5 random characters');
      s.sessions.complete('BackupSession', 'default', s.sessions.claimNext(agent)!.name, agent.name, { phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'x' } });
      // An explicit name is used as given; a taken one is refused, and creates nothing.
      assert.equal(s.sessions.createBackupSession('default', 'nightly', 'manual', 'by-hand')!.metadata.name, 'by-hand');
      s.sessions.complete('BackupSession', 'default', s.sessions.claimNext(agent)!.name, agent.name, { phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'x' } });
      const count = s.store.list('BackupSession').length;
      assert.throws(() => s.sessions.createBackupSession('default', 'nightly', 'manual', first), (err) => isSidestashError(err, ErrorCodes.CONFLICT) && err.message.includes(first));
      assert.equal(s.store.list('BackupSession').length, count);
    });

    it('a long configuration name is cut so that session names stay DNS labels', () => {
      s = setUp();
      const long = `n${'x'.repeat(62)}`;
      s.store.put({ ...s.store.get('BackupConfiguration', 'default', 'nightly')!, metadata: { name: long, namespace: 'default' } });
      const name = s.sessions.createBackupSession('default', long, 'manual')!.metadata.name;
      assert.equal(name.length, 63);
      assert.ok(name.startsWith(long.slice(0, 58)), name);
    });
  });

  describe('why a Pending session waits', () => {
    it('reads the reason from the store each time, writes nothing, and a claimed session no longer has one', () => {
      s = setUp();
      const restore = (name: string) => s.store.put({ apiVersion: 'sidestash.io/v1', kind: 'RestoreSession', metadata: { name, namespace: 'default' }, spec: { repository: { name: 'repo' }, target: { ref: { name: 'db' } } }, status: { phase: 'Pending' } });
      const backup = s.sessions.createBackupSession('default', 'nightly', 'manual')!;
      const why = (r: { kind: string } = s.store.get('BackupSession', 'default', backup.metadata.name)!) => (s.sessions.withPendingReasons([r as Parameters<SessionManager['withPendingReasons']>[0][number]])[0]!.status as unknown as SessionStatus);
      assert.deepEqual([why().reason, why().message], ['NoAgent', 'no agent serves default/db (none has it in SIDESTASH_AGENT_TARGETS)']);
      const version = s.store.get('BackupSession', 'default', backup.metadata.name)!.metadata.resourceVersion;
      s.store.putAgent({ ...agent, lastSeenAt: new Date(T0 - LEASE_MS).toISOString() });
      assert.equal(why().reason, 'AgentOffline');
      s.store.putAgent({ ...agent, lastSeenAt: new Date(T0).toISOString() });
      assert.deepEqual([why().reason, why().message], ['WaitingForAgent', 'waiting for agent default/agent-0 to take it']);
      const queued = restore('after');
      assert.deepEqual([why(queued).reason, why(queued).message], ['Queued', `queued behind backupsession default/${backup.metadata.name}`]);
      assert.equal(s.store.get('BackupSession', 'default', backup.metadata.name)!.metadata.resourceVersion, version, 'nothing was written');
      assert.equal(s.sessions.claimNext(agent)?.name, backup.metadata.name, 'the queue order holds');
      assert.deepEqual([why(queued).reason, why(queued).message], ['AgentBusy', `agent default/agent-0 is busy with backupsession default/${backup.metadata.name}`]);
      const running = why();
      assert.equal(running.phase, 'Running');
      assert.equal(running.reason, undefined);
      assert.equal(running.message, undefined);
      // A session whose configuration is gone says so.
      s.store.delete('BackupConfiguration', 'default', 'nightly');
      const orphan = s.store.put({ ...backup, metadata: { name: 'orphan', namespace: 'default' }, status: { phase: 'Pending' } });
      assert.deepEqual([why(orphan).reason, why(orphan).message], ['TargetMissing', 'BackupConfiguration default/nightly does not exist']);
    });
  });

  describe('cancel and deadlines', () => {
    it('a Pending session cancelled ends Cancelled at once (SESSION_CANCELLED); a finished one cannot be cancelled', () => {
      s = setUp();
      const name = s.sessions.createBackupSession('default', 'nightly', 'manual')!.metadata.name;
      const ended = s.sessions.cancel('BackupSession', 'default', name).status;
      assert.equal(ended?.phase, 'Cancelled');
      assert.equal(ended?.error?.code, ErrorCodes.SESSION_CANCELLED);
      assert.deepEqual({ ...s.store.get('BackupConfiguration', 'default', 'nightly')!.status as BackupConfigurationStatus }, { lastFinishedPhase: 'Cancelled', lastFinishedSession: name, lastDurationSeconds: 0 }, 'neither a success nor a failure');
      assert.throws(() => s.sessions.cancel('BackupSession', 'default', name), (err) => isSidestashError(err, ErrorCodes.CONFLICT));
    });

    it('a Running session cancelled through the API is told so by its next progress and ends Cancelled (SESSION_CANCELLED), even past its deadline', () => {
      s = setUp('10m');
      const name = start();
      s.clock.now = T0 + 1000;
      s.sessions.cancel('BackupSession', 'default', name);
      assert.equal(status(name).cancelReason, 'requested');
      assert.deepEqual(s.sessions.progress('BackupSession', 'default', name, agent.name, progress), { cancel: true });
      s.clock.now = T0 + 10 * 60_000 - 1; // still streaming, its lease renewed
      s.sessions.progress('BackupSession', 'default', name, agent.name, progress);
      s.clock.now = T0 + 10 * 60_000 + 1; // the deadline passes before the agent reports
      s.sessions.sweep();
      assert.equal(status(name).cancelReason, 'requested', 'the deadline does not rewrite a user cancel');
      const done = s.sessions.complete('BackupSession', 'default', name, agent.name, { phase: 'Failed', error: { code: ErrorCodes.SESSION_CANCELLED, message: 'backup stopped: cancelled by the controller' } });
      assert.equal(done.status?.phase, 'Cancelled');
      assert.equal(done.status?.error?.code, ErrorCodes.SESSION_CANCELLED);
    });

    it('at its deadline a Running session is asked to cancel; the agent stopping it ends SESSION_TIMEOUT', () => {
      s = setUp('30s');
      const name = start();
      assert.equal(status(name).deadline, new Date(T0 + 30_000).toISOString());
      s.clock.now = T0 + 30_000;
      s.sessions.sweep();
      assert.equal(status(name).cancelRequested, undefined, 'not before the deadline has passed');
      s.clock.now = T0 + 30_001;
      s.sessions.sweep();
      assert.equal(status(name).cancelRequested, true);
      assert.equal(status(name).cancelReason, 'timeout');
      assert.deepEqual(s.sessions.progress('BackupSession', 'default', name, agent.name, progress), { cancel: true });
      const done = s.sessions.complete('BackupSession', 'default', name, agent.name, { phase: 'Failed', error: { code: ErrorCodes.SESSION_CANCELLED, message: 'backup stopped: cancelled by the controller' } });
      assert.equal(done.status?.phase, 'Failed');
      assert.equal(done.status?.error?.code, ErrorCodes.SESSION_TIMEOUT);
      assert.match(done.status?.error?.message ?? '', /deadline 2026-03-01T10:00:30.000Z: backup stopped/);
    });

    it('an agent that does not stop within the grace period is failed SESSION_TIMEOUT by the controller', () => {
      s = setUp('30s');
      const name = start();
      s.clock.now = T0 + 30_001;
      s.sessions.sweep();
      // The agent keeps renewing its lease but never stops.
      s.clock.now = T0 + 30_000 + GRACE_MS;
      s.sessions.progress('BackupSession', 'default', name, agent.name, progress);
      s.sessions.sweep();
      assert.equal(status(name).phase, 'Running', 'the grace period has not run out');
      s.clock.now = T0 + 30_000 + GRACE_MS + 1;
      s.sessions.sweep();
      assert.equal(status(name).phase, 'Failed');
      assert.equal(status(name).error?.code, ErrorCodes.SESSION_TIMEOUT);
      assert.throws(() => s.sessions.complete('BackupSession', 'default', name, agent.name, { phase: 'Succeeded' }), (err) => isSidestashError(err, ErrorCodes.CONFLICT));
    });
  });
});

describe('SessionManager: pending timeout, deleted configurations, configuration status', () => {
  let s: ReturnType<typeof setUp>;
  beforeEach(() => (s = setUp()));
  const session = (name: string): SessionStatus => (s.store.get('BackupSession', 'default', name)!.status ?? { phase: 'Pending' }) as SessionStatus;
  const config = (name = 'nightly'): BackupConfigurationStatus => (s.store.get('BackupConfiguration', 'default', name)!.status ?? {}) as BackupConfigurationStatus;
  const online = (at: number): void => s.store.putAgent({ ...agent, lastSeenAt: new Date(at).toISOString() });
  const pending = (): string => s.sessions.createBackupSession('default', 'nightly', 'schedule')!.metadata.name;

  it('a Pending session no agent serves fails SIDESTASH_NO_AGENT just after the timeout, and no longer blocks the schedule', () => {
    const name = pending();
    s.clock.now = T0 + PENDING_MS;
    s.sessions.sweep();
    assert.equal(session(name).phase, 'Pending', 'not before the timeout has passed');
    assert.equal(s.sessions.createBackupSession('default', 'nightly', 'schedule'), undefined, 'a Pending session blocks the next run');
    s.clock.now = T0 + PENDING_MS + 1;
    s.sessions.sweep();
    assert.equal(session(name).phase, 'Failed');
    assert.equal(session(name).error?.code, ErrorCodes.NO_AGENT);
    assert.match(session(name).error?.message ?? '', /no agent serves target default\/db/);
    assert.ok(s.sessions.createBackupSession('default', 'nightly', 'schedule'), 'the next run is created');
    assert.equal(config().lastFinishedPhase, 'Failed');
    assert.equal(config().consecutiveFailures, 1);
    assert.equal(config().lastDurationSeconds, 0);
  });

  it('an online agent keeps the queue however long; once it is gone the wait counts from when it was last seen serving', () => {
    const name = pending();
    for (let m = 1; m <= 60; m++) {
      s.clock.now = T0 + m * 60_000;
      online(s.clock.now); // the busy agent keeps reporting on its other session
      s.sessions.sweep();
    }
    assert.equal(session(name).phase, 'Pending', 'an hour behind a busy, online agent');
    const lastSeen = s.clock.now;
    s.store.db.prepare('DELETE FROM agents WHERE name = ?').run(agent.name); // it deregisters (its record is gone)
    s.clock.now = lastSeen + PENDING_MS;
    s.sessions.sweep();
    assert.equal(session(name).phase, 'Pending', 'remembered: the restarted agent gets the whole timeout to come back');
    s.clock.now = lastSeen + PENDING_MS + 1;
    s.sessions.sweep();
    assert.equal(session(name).error?.code, ErrorCodes.NO_AGENT);
  });

  it('after a controller restart the agents get the whole timeout to come back, however old the session', () => {
    const name = pending();
    const restartAt = T0 + 3_600_000; // the controller was down for an hour
    s.clock.now = restartAt;
    const restarted = new SessionManager(s.store, createLogger({}, { level: 'error' }), { leaseMs: LEASE_MS, pendingTimeoutMs: PENDING_MS, now: () => s.clock.now });
    restarted.sweep();
    s.clock.now = restartAt + PENDING_MS;
    restarted.sweep();
    assert.equal(session(name).phase, 'Pending');
    s.clock.now = restartAt + PENDING_MS + 1;
    restarted.sweep();
    assert.equal(session(name).error?.code, ErrorCodes.NO_AGENT);
  });

  it('an agent that comes back within the timeout claims the session', () => {
    const name = pending();
    s.clock.now = T0 + PENDING_MS - 1;
    online(s.clock.now);
    s.sessions.sweep();
    assert.equal(s.sessions.claimNext(agent)?.name, name);
  });

  it('deleting the configuration ends its Pending session Cancelled at once and asks its Running one to stop (SESSION_CANCELLED, saying why)', () => {
    s.store.put({ apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name: 'weekly', namespace: 'default' }, spec: { schedule: '0 3 * * 0', repository: { name: 'repo' }, target: { ref: { name: 'db' } } } });
    const running = s.sessions.createBackupSession('default', 'weekly', 'manual')!.metadata.name;
    assert.equal(s.sessions.claimNext(agent)?.name, running);
    const waiting = s.sessions.createBackupSession('default', 'weekly', 'manual');
    assert.equal(waiting, undefined, 'no overlap');
    const other = pending();
    // A Pending session of weekly (stored as the API would), besides the Running one.
    s.store.put({ apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: { name: 'weekly-queued', namespace: 'default' }, spec: { invoker: { kind: 'BackupConfiguration', name: 'weekly' }, trigger: 'manual' }, status: { phase: 'Pending' } });
    s.store.delete('BackupConfiguration', 'default', 'weekly');
    s.sessions.endSessionsOf('default', 'weekly');
    assert.equal(session('weekly-queued').phase, 'Cancelled');
    assert.equal(session('weekly-queued').error?.code, ErrorCodes.SESSION_CANCELLED);
    assert.match(session('weekly-queued').error?.message ?? '', /its BackupConfiguration was deleted/);
    assert.equal(session(running).cancelReason, 'deleted');
    assert.deepEqual(s.sessions.progress('BackupSession', 'default', running, agent.name, progress), { cancel: true });
    const done = s.sessions.complete('BackupSession', 'default', running, agent.name, { phase: 'Failed', error: { code: ErrorCodes.SESSION_CANCELLED, message: 'backup stopped: cancelled by the controller' } });
    assert.equal(done.status?.phase, 'Cancelled');
    assert.equal(done.status?.error?.code, ErrorCodes.SESSION_CANCELLED);
    assert.match(done.status?.error?.message ?? '', /^its BackupConfiguration was deleted: backup stopped/);
    assert.equal(session(other).phase, 'Pending', "another configuration's session is left alone");
  });

  it('a configuration deleted and created again under the same name does not inherit its predecessor\'s session', () => {
    const running = s.sessions.createBackupSession('default', 'nightly', 'manual')!.metadata.name;
    assert.equal(s.sessions.claimNext(agent)?.name, running);
    const oldUid = s.store.get('BackupConfiguration', 'default', 'nightly')!.metadata.uid;
    assert.equal((s.store.get('BackupSession', 'default', running)!.spec as { invoker: { uid?: string } }).invoker.uid, oldUid, 'the session names its configuration by uid');
    s.store.delete('BackupConfiguration', 'default', 'nightly');
    s.sessions.endSessionsOf('default', 'nightly');
    // Re-applied (a GitOps sync), now for another target.
    s.store.put({ apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name: 'nightly', namespace: 'default' }, spec: { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db2' } } } });
    assert.notEqual(s.store.get('BackupConfiguration', 'default', 'nightly')!.metadata.uid, oldUid);
    const fresh = s.sessions.createBackupSession('default', 'nightly', 'manual');
    assert.ok(fresh, 'the predecessor\'s Running session does not block the new configuration');
    // The old backup ends (it did not hear of the cancel): nothing of it lands on the new configuration.
    s.sessions.complete('BackupSession', 'default', running, agent.name, { phase: 'Succeeded', snapshotId: 'a'.repeat(64) });
    assert.deepEqual(config(), {}, 'no success the new configuration never had');
    assert.equal(session(fresh.metadata.name).phase, 'Pending');
  });

  it('the outcome lives on the configuration: kept when the sessions are pruned and when the scheduler records its next run', () => {
    const first = pending();
    s.sessions.claimNext(agent);
    s.clock.now = T0 + 42_000;
    s.sessions.complete('BackupSession', 'default', first, agent.name, { phase: 'Succeeded', snapshotId: 'a'.repeat(64) });
    const successAt = new Date(T0 + 42_000).toISOString();
    assert.deepEqual({ ...config() }, { lastFinishedPhase: 'Succeeded', lastFinishedSession: first, lastDurationSeconds: 42, lastSuccessTime: successAt, consecutiveFailures: 0 });
    for (let i = 1; i <= 6; i++) {
      s.clock.now = T0 + i * 3_600_000;
      const name = pending();
      s.sessions.claimNext(agent);
      s.sessions.complete('BackupSession', 'default', name, agent.name, { phase: 'Failed', error: { code: ErrorCodes.DUMP_FAILED, message: 'x' } });
    }
    assert.equal(s.store.get('BackupSession', 'default', first), undefined, 'the success was pruned from history (limit 5)');
    const scheduler = new Scheduler(s.store, s.sessions, createLogger({}, { level: 'error' }));
    scheduler.sync(); // records nextScheduleTime on the status
    scheduler.stop();
    const st = config();
    assert.ok(st.nextScheduleTime);
    assert.equal(st.lastSuccessTime, successAt);
    assert.equal(st.lastFinishedPhase, 'Failed');
    assert.equal(st.consecutiveFailures, 6);
  });
});

describe('resultAfterCancel', () => {
  const cancelled: SessionResult = { phase: 'Failed', error: { code: ErrorCodes.SESSION_CANCELLED, message: 'backup stopped' } };
  const table: [string, Pick<SessionStatus, 'cancelReason' | 'deadline'>, SessionResult, string | undefined, SessionResult['phase']][] = [
    ['cancelled at the deadline', { cancelReason: 'timeout', deadline: 'D' }, cancelled, ErrorCodes.SESSION_TIMEOUT, 'Failed'],
    ['cancelled by a user', { cancelReason: 'requested', deadline: 'D' }, cancelled, ErrorCodes.SESSION_CANCELLED, 'Cancelled'],
    ['no cancel asked (the agent stopped on its own)', {}, cancelled, ErrorCodes.SESSION_CANCELLED, 'Failed'],
    ['the agent already said timeout', { cancelReason: 'timeout' }, { phase: 'Failed', error: { code: ErrorCodes.SESSION_TIMEOUT, message: 'x' } }, ErrorCodes.SESSION_TIMEOUT, 'Failed'],
    ['another failure at the deadline', { cancelReason: 'timeout' }, { phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'x' } }, 'SIDESTASH_DUMP_FAILED', 'Failed'],
    ['another failure after a user cancel', { cancelReason: 'requested' }, { phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'x' } }, 'SIDESTASH_DUMP_FAILED', 'Failed'],
    ['a success that raced the deadline', { cancelReason: 'timeout' }, { phase: 'Succeeded', snapshotId: 'abc' }, undefined, 'Succeeded'],
    ['a success that raced a user cancel', { cancelReason: 'requested' }, { phase: 'Succeeded', snapshotId: 'abc' }, undefined, 'Succeeded'],
    ['cancelled because its configuration was deleted', { cancelReason: 'deleted' }, cancelled, ErrorCodes.SESSION_CANCELLED, 'Cancelled'],
    ['a success that raced the deletion', { cancelReason: 'deleted' }, { phase: 'Succeeded', snapshotId: 'abc' }, undefined, 'Succeeded'],
  ];
  for (const [what, status, result, code, phase] of table) {
    it(what, () => {
      const out = resultAfterCancel(status, result);
      assert.equal(out.error?.code, code);
      assert.equal(out.phase, phase);
      assert.equal(out.snapshotId, result.snapshotId);
    });
  }
});
