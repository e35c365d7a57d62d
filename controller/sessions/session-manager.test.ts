// SessionManager with an injected clock and an in-memory store: leases, deadlines, cancels and
// session names, decided at exact instants instead of wall-clock sleeps.
import assert from 'node:assert/strict';
import { upsert } from '../store/upsert.ts';
import { beforeEach, describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import type { SessionResult } from '../../common/protocol.ts';
import type { BackupConfigurationStatus, SessionStatus } from '../resources/types.ts';
import { Scheduler } from '../scheduler.ts';
import type { AgentRecord } from '../store/store.ts';
import { Store } from '../store/store.ts';
import { seedNightly } from './session-fixture.ts';
import { SessionManager } from './session-manager.ts';
import { resultAfterCancel } from './timeout-outcome.ts';

const LEASE_MS = 60_000;
const GRACE_MS = 30_000;
const PENDING_MS = 5 * 60_000;
const T0 = Date.parse('2026-03-01T10:00:00Z');
const agent: AgentRecord = { name: 'default/agent-0', tokenSha256: 'x', targets: ['default/db'], version: 't', registeredAt: '', lastSeenAt: '' };
const progress = { bytesDumped: 1, bytesStored: 1, rateBytesPerSecond: 1 };

async function setUp(timeout?: string): Promise<{ store: Store; sessions: SessionManager; clock: { now: number } }> {
  const store = new Store(':memory:');
  await seedNightly(store, timeout ? { timeout } : {});
  const clock = { now: T0 };
  const sessions = new SessionManager(store, createLogger({}, { level: 'error' }), { leaseMs: LEASE_MS, cancelGraceMs: GRACE_MS, pendingTimeoutMs: PENDING_MS, now: () => clock.now });
  return { store, sessions, clock };
}

describe('SessionManager (injected clock)', () => {
  let s: Awaited<ReturnType<typeof setUp>>;
  const status = async (name: string): Promise<SessionStatus> => ((await s.store.get('BackupSession', 'default', name))!.status ?? { phase: 'Pending' }) as unknown as SessionStatus;
  const start = async (): Promise<string> => {
    const created = (await s.sessions.createBackupSession('default', 'nightly', 'manual'))!;
    const a = (await s.sessions.claimNext(agent));
    assert.equal(a?.name, created.metadata.name);
    return created.metadata.name;
  };

  describe('leases', () => {
    beforeEach(async () => (s = await setUp()));

    it('a Running session whose agent keeps reporting is never failed; one that stops is failed AGENT_LOST exactly after its lease', async () => {
      const name = (await start());
      assert.equal((await status(name)).leaseExpiresAt, new Date(T0 + LEASE_MS).toISOString());
      // Progress every 50 s renews the lease: sweeps in between never fail it, for well past one lease.
      for (let i = 1; i <= 5; i++) {
        s.clock.now = T0 + i * 50_000;
        (await s.sessions.sweep());
        assert.equal((await status(name)).phase, 'Running', `sweep at ${i * 50} s`);
        assert.deepEqual((await s.sessions.progress('BackupSession', 'default', name, agent.name, progress)), { cancel: false });
      }
      const lastReport = T0 + 250_000;
      s.clock.now = lastReport + LEASE_MS; // the lease ends at this instant, not before
      (await s.sessions.sweep());
      assert.equal((await status(name)).phase, 'Running');
      s.clock.now = lastReport + LEASE_MS + 1;
      (await s.sessions.sweep());
      assert.equal((await status(name)).phase, 'Failed');
      assert.equal((await status(name)).error?.code, ErrorCodes.AGENT_LOST);
      assert.equal((await status(name)).leaseExpiresAt, undefined);
      // The lost agent's late result is refused: the session stays as the sweep left it.
      await assert.rejects(async () => (await s.sessions.complete('BackupSession', 'default', name, agent.name, { phase: 'Succeeded' })), (err) => isSidestashError(err, ErrorCodes.CONFLICT));
      assert.equal((await status(name)).phase, 'Failed');
    });

    it('after a controller restart a Running session\'s agent gets a whole lease to report, however long the controller was down', async () => {
      const reported = (await start());
      const restartAt = T0 + 3_600_000; // the lease ran out long ago, while no controller ran
      s.clock.now = restartAt;
      const restarted = new SessionManager(s.store, createLogger({}, { level: 'error' }), { leaseMs: LEASE_MS, pendingTimeoutMs: PENDING_MS, now: () => s.clock.now });
      await restarted.sweep();
      s.clock.now = restartAt + LEASE_MS;
      await restarted.sweep();
      assert.equal((await status(reported)).phase, 'Running');
      // Nothing heard within that lease: lost, as any session whose agent stopped reporting.
      s.clock.now = restartAt + LEASE_MS + 1;
      await restarted.sweep();
      assert.equal((await status(reported)).error?.code, ErrorCodes.AGENT_LOST);
    });

    it('after a controller restart, a result reported within the grace is recorded as it happened', async () => {
      const name = (await start());
      const restartAt = T0 + 3_600_000;
      s.clock.now = restartAt;
      const restarted = new SessionManager(s.store, createLogger({}, { level: 'error' }), { leaseMs: LEASE_MS, pendingTimeoutMs: PENDING_MS, now: () => s.clock.now });
      await restarted.sweep();
      s.clock.now = restartAt + LEASE_MS - 1000;
      await restarted.sweep();
      assert.equal((await restarted.complete('BackupSession', 'default', name, agent.name, { phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'x' } })).status?.error?.code, 'SIDESTASH_DUMP_FAILED');
    });

    it('renewLease (a result to be checked later) keeps the session alive like progress does', async () => {
      const name = (await start());
      s.clock.now = T0 + LEASE_MS - 1;
      (await s.sessions.renewLease('BackupSession', 'default', name, agent.name));
      s.clock.now = T0 + 2 * LEASE_MS - 2;
      (await s.sessions.sweep());
      assert.equal((await status(name)).phase, 'Running');
      s.clock.now = T0 + 2 * LEASE_MS;
      (await s.sessions.sweep());
      assert.equal((await status(name)).error?.code, ErrorCodes.AGENT_LOST);
    });

    it('sessions created in the same second get distinct names, and a configuration never runs twice at once', async () => {
      const first = (await start());
      assert.equal((await s.sessions.createBackupSession('default', 'nightly', 'manual')), undefined, 'no overlap');
      (await s.sessions.complete('BackupSession', 'default', first, agent.name, { phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'x' } }));
      const second = (await s.sessions.createBackupSession('default', 'nightly', 'manual'))!.metadata.name;
      assert.notEqual(second, first);
      for (const n of [first, second]) assert.match(n, /^nightly-[bcdfghjklmnpqrstvwxz2456789]{5}$/, 'generateName: the configuration and 5 random characters');
      (await s.sessions.complete('BackupSession', 'default', (await s.sessions.claimNext(agent))!.name, agent.name, { phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'x' } }));
      // An explicit name is used as given; a taken one is refused, and creates nothing.
      assert.equal((await s.sessions.createBackupSession('default', 'nightly', 'manual', 'by-hand'))!.metadata.name, 'by-hand');
      (await s.sessions.complete('BackupSession', 'default', (await s.sessions.claimNext(agent))!.name, agent.name, { phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'x' } }));
      const count = (await s.store.list('BackupSession')).length;
      await assert.rejects(async () => (await s.sessions.createBackupSession('default', 'nightly', 'manual', first)), (err) => isSidestashError(err, ErrorCodes.CONFLICT) && err.message.includes(first));
      assert.equal((await s.store.list('BackupSession')).length, count);
    });

    it('a long configuration name is cut so that session names stay DNS labels', async () => {
      s = await setUp();
      const long = `n${'x'.repeat(62)}`;
      (await upsert(s.store, { ...(await s.store.get('BackupConfiguration', 'default', 'nightly'))!, metadata: { name: long, namespace: 'default' } }));
      const name = (await s.sessions.createBackupSession('default', long, 'manual'))!.metadata.name;
      assert.equal(name.length, 63);
      assert.ok(name.startsWith(long.slice(0, 58)), name);
    });
  });

  describe('why a Pending session waits', () => {
    it('reads the reason from the store each time, writes nothing, and a claimed session no longer has one', async () => {
      s = await setUp();
      const restore = async (name: string) => (await upsert(s.store, { apiVersion: 'sidestash.io/v1', kind: 'RestoreSession', metadata: { name, namespace: 'default' }, spec: { repository: { name: 'repo' }, target: { ref: { name: 'db' } } }, status: { phase: 'Pending' } }));
      const backup = (await s.sessions.createBackupSession('default', 'nightly', 'manual'))!;
      const why = async (r?: { kind: string }) => ((await s.sessions.withPendingReasons([(r ?? (await s.store.get('BackupSession', 'default', backup.metadata.name))!) as Parameters<SessionManager['withPendingReasons']>[0][number]]))[0]!.status as unknown as SessionStatus);
      assert.deepEqual([(await why()).reason, (await why()).message], ['NoAgent', 'no agent serves default/db (none has it in SIDESTASH_AGENT_TARGETS)']);
      const version = (await s.store.get('BackupSession', 'default', backup.metadata.name))!.metadata.resourceVersion;
      s.store.putAgent({ ...agent, lastSeenAt: new Date(T0 - LEASE_MS).toISOString() });
      assert.equal((await why()).reason, 'AgentOffline');
      s.store.putAgent({ ...agent, lastSeenAt: new Date(T0).toISOString() });
      assert.deepEqual([(await why()).reason, (await why()).message], ['WaitingForAgent', 'waiting for agent default/agent-0 to take it']);
      const queued = (await restore('after'));
      assert.deepEqual([(await why(queued)).reason, (await why(queued)).message], ['Queued', `queued behind backupsession default/${backup.metadata.name}`]);
      assert.equal((await s.store.get('BackupSession', 'default', backup.metadata.name))!.metadata.resourceVersion, version, 'nothing was written');
      assert.equal((await s.sessions.claimNext(agent))?.name, backup.metadata.name, 'the queue order holds');
      assert.deepEqual([(await why(queued)).reason, (await why(queued)).message], ['AgentBusy', `agent default/agent-0 is busy with backupsession default/${backup.metadata.name}`]);
      const running = (await why());
      assert.equal(running.phase, 'Running');
      assert.equal(running.reason, undefined);
      assert.equal(running.message, undefined);
      // A session whose configuration is gone says so.
      (await s.store.delete('BackupConfiguration', 'default', 'nightly'));
      const orphan = (await upsert(s.store, { ...backup, metadata: { name: 'orphan', namespace: 'default' }, status: { phase: 'Pending' } }));
      assert.deepEqual([(await why(orphan)).reason, (await why(orphan)).message], ['TargetMissing', 'BackupConfiguration default/nightly does not exist']);
    });
  });

  describe('cancel and deadlines', () => {
    it('a Pending session cancelled ends Cancelled at once (SESSION_CANCELLED); a finished one cannot be cancelled', async () => {
      s = await setUp();
      const name = (await s.sessions.createBackupSession('default', 'nightly', 'manual'))!.metadata.name;
      const ended = (await s.sessions.cancel('BackupSession', 'default', name)).status;
      assert.equal(ended?.phase, 'Cancelled');
      assert.equal(ended?.error?.code, ErrorCodes.SESSION_CANCELLED);
      assert.deepEqual({ ...(await s.store.get('BackupConfiguration', 'default', 'nightly'))!.status as BackupConfigurationStatus }, { lastFinishedPhase: 'Cancelled', lastFinishedSession: name, lastDurationSeconds: 0 }, 'neither a success nor a failure');
      await assert.rejects(async () => (await s.sessions.cancel('BackupSession', 'default', name)), (err) => isSidestashError(err, ErrorCodes.CONFLICT));
    });

    it('a Running session cancelled through the API is told so by its next progress and ends Cancelled (SESSION_CANCELLED), even past its deadline', async () => {
      s = await setUp('10m');
      const name = (await start());
      s.clock.now = T0 + 1000;
      (await s.sessions.cancel('BackupSession', 'default', name));
      assert.equal((await status(name)).cancelReason, 'requested');
      assert.deepEqual((await s.sessions.progress('BackupSession', 'default', name, agent.name, progress)), { cancel: true });
      s.clock.now = T0 + 10 * 60_000 - 1; // still streaming, its lease renewed
      (await s.sessions.progress('BackupSession', 'default', name, agent.name, progress));
      s.clock.now = T0 + 10 * 60_000 + 1; // the deadline passes before the agent reports
      (await s.sessions.sweep());
      assert.equal((await status(name)).cancelReason, 'requested', 'the deadline does not rewrite a user cancel');
      const done = (await s.sessions.complete('BackupSession', 'default', name, agent.name, { phase: 'Failed', error: { code: ErrorCodes.SESSION_CANCELLED, message: 'backup stopped: cancelled by the controller' } }));
      assert.equal(done.status?.phase, 'Cancelled');
      assert.equal(done.status?.error?.code, ErrorCodes.SESSION_CANCELLED);
    });

    it('at its deadline a Running session is asked to cancel; the agent stopping it ends SESSION_TIMEOUT', async () => {
      s = await setUp('30s');
      const name = (await start());
      assert.equal((await status(name)).deadline, new Date(T0 + 30_000).toISOString());
      s.clock.now = T0 + 30_000;
      (await s.sessions.sweep());
      assert.equal((await status(name)).cancelRequested, undefined, 'not before the deadline has passed');
      s.clock.now = T0 + 30_001;
      (await s.sessions.sweep());
      assert.equal((await status(name)).cancelRequested, true);
      assert.equal((await status(name)).cancelReason, 'timeout');
      assert.deepEqual((await s.sessions.progress('BackupSession', 'default', name, agent.name, progress)), { cancel: true });
      const done = (await s.sessions.complete('BackupSession', 'default', name, agent.name, { phase: 'Failed', error: { code: ErrorCodes.SESSION_CANCELLED, message: 'backup stopped: cancelled by the controller' } }));
      assert.equal(done.status?.phase, 'Failed');
      assert.equal(done.status?.error?.code, ErrorCodes.SESSION_TIMEOUT);
      assert.match(done.status?.error?.message ?? '', /deadline 2026-03-01T10:00:30.000Z: backup stopped/);
    });

    it('an agent that does not stop within the grace period is failed SESSION_TIMEOUT by the controller', async () => {
      s = await setUp('30s');
      const name = (await start());
      s.clock.now = T0 + 30_001;
      (await s.sessions.sweep());
      // The agent keeps renewing its lease but never stops.
      s.clock.now = T0 + 30_000 + GRACE_MS;
      (await s.sessions.progress('BackupSession', 'default', name, agent.name, progress));
      (await s.sessions.sweep());
      assert.equal((await status(name)).phase, 'Running', 'the grace period has not run out');
      s.clock.now = T0 + 30_000 + GRACE_MS + 1;
      (await s.sessions.sweep());
      assert.equal((await status(name)).phase, 'Failed');
      assert.equal((await status(name)).error?.code, ErrorCodes.SESSION_TIMEOUT);
      await assert.rejects(async () => (await s.sessions.complete('BackupSession', 'default', name, agent.name, { phase: 'Succeeded' })), (err) => isSidestashError(err, ErrorCodes.CONFLICT));
    });
  });
});

describe('SessionManager: pending timeout, deleted configurations, configuration status', () => {
  let s: Awaited<ReturnType<typeof setUp>>;
  beforeEach(async () => (s = await setUp()));
  const session = async (name: string): Promise<SessionStatus> => ((await s.store.get('BackupSession', 'default', name))!.status ?? { phase: 'Pending' }) as unknown as SessionStatus;
  const config = async (name = 'nightly'): Promise<BackupConfigurationStatus> => ((await s.store.get('BackupConfiguration', 'default', name))!.status ?? {}) as BackupConfigurationStatus;
  const online = (at: number): void => s.store.putAgent({ ...agent, lastSeenAt: new Date(at).toISOString() });
  const pending = async (): Promise<string> => (await s.sessions.createBackupSession('default', 'nightly', 'schedule'))!.metadata.name;

  it('a Pending session no agent serves fails SIDESTASH_NO_AGENT just after the timeout, and no longer blocks the schedule', async () => {
    const name = (await pending());
    s.clock.now = T0 + PENDING_MS;
    (await s.sessions.sweep());
    assert.equal((await session(name)).phase, 'Pending', 'not before the timeout has passed');
    assert.equal((await s.sessions.createBackupSession('default', 'nightly', 'schedule')), undefined, 'a Pending session blocks the next run');
    s.clock.now = T0 + PENDING_MS + 1;
    (await s.sessions.sweep());
    assert.equal((await session(name)).phase, 'Failed');
    assert.equal((await session(name)).error?.code, ErrorCodes.NO_AGENT);
    assert.match((await session(name)).error?.message ?? '', /no agent serves target default\/db/);
    assert.ok((await s.sessions.createBackupSession('default', 'nightly', 'schedule')), 'the next run is created');
    assert.equal((await config()).lastFinishedPhase, 'Failed');
    assert.equal((await config()).consecutiveFailures, 1);
    assert.equal((await config()).lastDurationSeconds, 0);
  });

  // The sweep gives the event loop back between sessions (loop-yield.ts): an agent can register or
  // report between the sweep's read of the agents and its decision on a session. The decision to
  // fail is made again on the agents as they are then, not on the sweep's first read.
  it('an agent that comes online while the sweep is under way keeps its Pending session from failing', async () => {
    const name = (await pending());
    s.clock.now = T0 + PENDING_MS + 1;
    const get = s.store.get.bind(s.store);
    let registered = false;
    s.store.get = (async (...args: Parameters<Store['get']>) => {
      // The sweep reads the session's configuration (its target) after it read the agents: the agent registers meanwhile.
      if (args[0] === 'BackupConfiguration' && !registered) (registered = true, online(s.clock.now));
      return get(...args);
    }) as Store['get'];
    (await s.sessions.sweep());
    assert.ok(registered, 'the agent came online during the sweep');
    assert.equal((await session(name)).phase, 'Pending', 'not failed NO_AGENT: an online agent serves it now');
  });

  it('an online agent keeps the queue however long; once it is gone the wait counts from when it was last seen serving', async () => {
    const name = (await pending());
    for (let m = 1; m <= 60; m++) {
      s.clock.now = T0 + m * 60_000;
      online(s.clock.now); // the busy agent keeps reporting on its other session
      (await s.sessions.sweep());
    }
    assert.equal((await session(name)).phase, 'Pending', 'an hour behind a busy, online agent');
    const lastSeen = s.clock.now;
    s.store.db.prepare('DELETE FROM agents WHERE name = ?').run(agent.name); // it deregisters (its record is gone)
    s.clock.now = lastSeen + PENDING_MS;
    (await s.sessions.sweep());
    assert.equal((await session(name)).phase, 'Pending', 'remembered: the restarted agent gets the whole timeout to come back');
    s.clock.now = lastSeen + PENDING_MS + 1;
    (await s.sessions.sweep());
    assert.equal((await session(name)).error?.code, ErrorCodes.NO_AGENT);
  });

  it('after a controller restart the agents get the whole timeout to come back, however old the session', async () => {
    const name = (await pending());
    const restartAt = T0 + 3_600_000; // the controller was down for an hour
    s.clock.now = restartAt;
    const restarted = new SessionManager(s.store, createLogger({}, { level: 'error' }), { leaseMs: LEASE_MS, pendingTimeoutMs: PENDING_MS, now: () => s.clock.now });
    await restarted.sweep();
    s.clock.now = restartAt + PENDING_MS;
    await restarted.sweep();
    assert.equal((await session(name)).phase, 'Pending');
    s.clock.now = restartAt + PENDING_MS + 1;
    await restarted.sweep();
    assert.equal((await session(name)).error?.code, ErrorCodes.NO_AGENT);
  });

  it('an agent that comes back within the timeout claims the session', async () => {
    const name = (await pending());
    s.clock.now = T0 + PENDING_MS - 1;
    online(s.clock.now);
    (await s.sessions.sweep());
    assert.equal((await s.sessions.claimNext(agent))?.name, name);
  });

  it('deleting the configuration ends its Pending session Cancelled at once and asks its Running one to stop (SESSION_CANCELLED, saying why)', async () => {
    (await upsert(s.store, { apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name: 'weekly', namespace: 'default' }, spec: { schedule: '0 3 * * 0', repository: { name: 'repo' }, target: { ref: { name: 'db' } } } }));
    const running = (await s.sessions.createBackupSession('default', 'weekly', 'manual'))!.metadata.name;
    assert.equal((await s.sessions.claimNext(agent))?.name, running);
    const waiting = (await s.sessions.createBackupSession('default', 'weekly', 'manual'));
    assert.equal(waiting, undefined, 'no overlap');
    const other = (await pending());
    // A Pending session of weekly (stored as the API would), besides the Running one.
    (await upsert(s.store, { apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: { name: 'weekly-queued', namespace: 'default' }, spec: { invoker: { kind: 'BackupConfiguration', name: 'weekly' }, trigger: 'manual' }, status: { phase: 'Pending' } }));
    (await s.store.delete('BackupConfiguration', 'default', 'weekly'));
    (await s.sessions.endSessionsOf('default', 'weekly'));
    assert.equal((await session('weekly-queued')).phase, 'Cancelled');
    assert.equal((await session('weekly-queued')).error?.code, ErrorCodes.SESSION_CANCELLED);
    assert.match((await session('weekly-queued')).error?.message ?? '', /its BackupConfiguration was deleted/);
    assert.equal((await session(running)).cancelReason, 'deleted');
    assert.deepEqual((await s.sessions.progress('BackupSession', 'default', running, agent.name, progress)), { cancel: true });
    const done = (await s.sessions.complete('BackupSession', 'default', running, agent.name, { phase: 'Failed', error: { code: ErrorCodes.SESSION_CANCELLED, message: 'backup stopped: cancelled by the controller' } }));
    assert.equal(done.status?.phase, 'Cancelled');
    assert.equal(done.status?.error?.code, ErrorCodes.SESSION_CANCELLED);
    assert.match(done.status?.error?.message ?? '', /^its BackupConfiguration was deleted: backup stopped/);
    assert.equal((await session(other)).phase, 'Pending', "another configuration's session is left alone");
  });

  it('a configuration deleted and created again under the same name does not inherit its predecessor\'s session', async () => {
    const running = (await s.sessions.createBackupSession('default', 'nightly', 'manual'))!.metadata.name;
    assert.equal((await s.sessions.claimNext(agent))?.name, running);
    const oldUid = (await s.store.get('BackupConfiguration', 'default', 'nightly'))!.metadata.uid;
    assert.equal(((await s.store.get('BackupSession', 'default', running))!.spec as { invoker: { uid?: string } }).invoker.uid, oldUid, 'the session names its configuration by uid');
    (await s.store.delete('BackupConfiguration', 'default', 'nightly'));
    (await s.sessions.endSessionsOf('default', 'nightly'));
    // Re-applied (a GitOps sync), now for another target.
    (await upsert(s.store, { apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name: 'nightly', namespace: 'default' }, spec: { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db2' } } } }));
    assert.notEqual((await s.store.get('BackupConfiguration', 'default', 'nightly'))!.metadata.uid, oldUid);
    const fresh = (await s.sessions.createBackupSession('default', 'nightly', 'manual'));
    assert.ok(fresh, 'the predecessor\'s Running session does not block the new configuration');
    // The old backup ends (it did not hear of the cancel): nothing of it lands on the new configuration.
    (await s.sessions.complete('BackupSession', 'default', running, agent.name, { phase: 'Succeeded', snapshotId: 'a'.repeat(64) }));
    assert.deepEqual(await config(), {}, 'no success the new configuration never had');
    assert.equal((await session(fresh.metadata.name)).phase, 'Pending');
  });

  it('the outcome lives on the configuration: kept when the sessions are pruned and when the scheduler records its next run', async () => {
    const first = (await pending());
    (await s.sessions.claimNext(agent));
    s.clock.now = T0 + 42_000;
    (await s.sessions.complete('BackupSession', 'default', first, agent.name, { phase: 'Succeeded', snapshotId: 'a'.repeat(64) }));
    const successAt = new Date(T0 + 42_000).toISOString();
    assert.deepEqual({ ...(await config()) }, { lastFinishedPhase: 'Succeeded', lastFinishedSession: first, lastDurationSeconds: 42, lastSuccessTime: successAt, consecutiveFailures: 0 });
    for (let i = 1; i <= 6; i++) {
      s.clock.now = T0 + i * 3_600_000;
      const name = (await pending());
      (await s.sessions.claimNext(agent));
      (await s.sessions.complete('BackupSession', 'default', name, agent.name, { phase: 'Failed', error: { code: ErrorCodes.DUMP_FAILED, message: 'x' } }));
    }
    assert.equal((await s.store.get('BackupSession', 'default', first)), undefined, 'the success was pruned from history (limit 5)');
    const scheduler = new Scheduler(s.store, s.sessions, createLogger({}, { level: 'error' }));
    (await scheduler.sync()); // records nextScheduleTime on the status
    scheduler.stop();
    const st = await config();
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
