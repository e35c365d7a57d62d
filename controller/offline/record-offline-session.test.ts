// Recording a backup an agent ran offline (record-offline-session.ts), on an in-memory store:
// one BackupSession per scheduled time, trigger offline; the scheduler's session for that time is
// taken over only when it never ran; refusals for a foreign target, a gone configuration, a time
// that is not one of the schedule's, a time that already ran; a resent report is answered again.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import type { OfflineSessionReport } from '../../common/offline-protocol.ts';
import { latestRunAt } from '../../common/schedule.ts';
import { scheduledSessionName } from '../../common/scheduled-name.ts';
import type { BackupConfigurationStatus, SessionStatus } from '../resources/types.ts';
import { seedNightly } from '../sessions/session-fixture.ts';
import { SessionManager } from '../sessions/session-manager.ts';
import type { AgentRecord } from '../store/store.ts';
import { Store } from '../store/store.ts';
import { recordOfflineSession } from './record-offline-session.ts';

const log = createLogger({}, { level: 'error' });
const agent: AgentRecord = { name: 'default/agent-0', tokenSha256: 'x', targets: ['default/db'], version: 't', registeredAt: '', lastSeenAt: '' };
const failed = { phase: 'Failed' as const, error: { code: 'SIDESTASH_DUMP_FAILED', message: 'mariadb-dump exited 2' }, durationSeconds: 3 };

describe('recording offline backups', () => {
  let store: Store;
  let sessions: SessionManager;
  let uid: string;
  let slotMs: number;
  const report = (over: Partial<OfflineSessionReport> = {}): OfflineSessionReport => ({ configuration: 'nightly', configurationUid: uid, scheduledAt: new Date(slotMs).toISOString(), startedAt: new Date(slotMs + 1000).toISOString(), result: failed, ...over });
  const record = (r: OfflineSessionReport, a: AgentRecord = agent) => recordOfflineSession(sessions, a, r, AbortSignal.timeout(30_000), log);
  const session = async (name: string) => store.get<{ trigger?: string }, SessionStatus>('BackupSession', 'default', name);
  const refused = async (r: OfflineSessionReport, code: string, a: AgentRecord = agent): Promise<void> => {
    await assert.rejects(record(r, a), (err) => isSidestashError(err, code as never));
  };

  beforeEach(async () => {
    store = new Store(':memory:');
    await seedNightly(store, { schedule: '* * * * *' });
    sessions = new SessionManager(store, log, { leaseMs: 60_000, cancelGraceMs: 30_000, pendingTimeoutMs: 300_000 });
    uid = (await store.get('BackupConfiguration', 'default', 'nightly'))!.metadata.uid!;
    slotMs = latestRunAt({ schedule: '* * * * *' }, Date.now())!;
  });

  it('a scheduled time with no session yet becomes its BackupSession, trigger offline, finished with the reported result, counted on the configuration', async () => {
    const name = scheduledSessionName('nightly', slotMs);
    assert.deepEqual(await record(report()), { session: name, phase: 'Failed' });
    const s = (await session(name))!;
    assert.equal(s.spec.trigger, 'offline');
    assert.equal(s.status?.agent, agent.name);
    assert.equal(s.status?.startedAt, new Date(slotMs + 1000).toISOString());
    assert.equal(s.status?.error?.code, 'SIDESTASH_DUMP_FAILED');
    const cfg = await store.get<unknown, BackupConfigurationStatus>('BackupConfiguration', 'default', 'nightly');
    assert.equal(cfg?.status?.lastFinishedSession, name);
    assert.equal(cfg?.status?.consecutiveFailures, 1);
    // Sent again (the answer was lost): the same answer, nothing counted twice.
    assert.deepEqual(await record(report()), { session: name, phase: 'Failed' });
    assert.equal((await store.get<unknown, BackupConfigurationStatus>('BackupConfiguration', 'default', 'nightly'))?.status?.consecutiveFailures, 1);
    // The scheduler's own run of that time now finds it taken.
    await assert.rejects(sessions.createBackupSession('default', 'nightly', 'schedule', name), (err) => isSidestashError(err, ErrorCodes.CONFLICT));
  });

  it('the scheduler\'s session that never ran is taken over: Pending, claimed by the same agent, or failed NO_AGENT', async () => {
    for (const [i, prepare] of [
      async () => {},
      async () => assert.ok(await sessions.claimNext(agent)),
      async (name: string) => {
        const s = (await store.get('BackupSession', 'default', name))!;
        await sessions.finish(s as never, { phase: 'Failed', error: { code: ErrorCodes.NO_AGENT, message: 'no agent serves target default/db' } });
      },
    ].entries()) {
      const t = slotMs - i * 60_000;
      const name = scheduledSessionName('nightly', t);
      assert.ok(await sessions.createBackupSession('default', 'nightly', 'schedule', name));
      await prepare(name);
      assert.deepEqual(await record(report({ scheduledAt: new Date(t).toISOString(), startedAt: new Date(t).toISOString() })), { session: name, phase: 'Failed' }, `case ${i}`);
      const s = (await session(name))!;
      assert.equal(s.spec.trigger, 'offline', `case ${i}`);
      assert.equal(s.status?.error?.code, 'SIDESTASH_DUMP_FAILED', `case ${i}`);
    }
  });

  it('another configuration\'s offline session holding the scheduled name is refused (CONFLICT), neither answered as this report\'s nor finished with its result', async () => {
    const name = scheduledSessionName('nightly', slotMs);
    await store.create({
      apiVersion: 'sidestash.io/v1', kind: 'BackupSession',
      metadata: { name, namespace: 'default', creationTimestamp: new Date().toISOString() },
      spec: { invoker: { kind: 'BackupConfiguration', name: 'nightly-offsite' }, trigger: 'offline' },
      status: { phase: 'Running', agent: agent.name, startedAt: new Date(slotMs).toISOString(), leaseExpiresAt: new Date(Date.now() + 60_000).toISOString() },
    } as never);
    await refused(report(), ErrorCodes.CONFLICT);
    const s = (await session(name))!;
    assert.equal(s.status?.phase, 'Running', 'the other configuration\'s session is untouched');
    assert.equal(s.status?.error, undefined);
  });

  it('a scheduled time that ran is refused (CONFLICT): an offline report never makes it run twice', async () => {
    const name = scheduledSessionName('nightly', slotMs);
    await sessions.createBackupSession('default', 'nightly', 'schedule', name);
    await sessions.claimNext({ ...agent, name: 'default/agent-1' });
    await refused(report(), ErrorCodes.CONFLICT);
    await sessions.complete('BackupSession', 'default', name, 'default/agent-1', failed);
    await refused(report(), ErrorCodes.CONFLICT);
    assert.equal((await session(name))?.spec.trigger, 'schedule');
  });

  it('refuses a target the agent does not serve, a configuration deleted or created again, and a time that is not one of the schedule\'s', async () => {
    await refused(report(), ErrorCodes.FORBIDDEN, { ...agent, targets: ['default/other'] });
    await refused(report({ configurationUid: 'another-uid' }), ErrorCodes.CONFLICT);
    await refused(report({ configuration: 'missing' }), ErrorCodes.CONFLICT);
    await refused(report({ scheduledAt: new Date(slotMs + 30_000).toISOString() }), ErrorCodes.INVALID_ARGUMENT);
    await refused(report({ scheduledAt: new Date(slotMs + 3_600_000).toISOString() }), ErrorCodes.INVALID_ARGUMENT);
    await refused(report({ scheduledAt: new Date(slotMs - 24 * 3_600_000).toISOString() }), ErrorCodes.INVALID_ARGUMENT);
    assert.equal((await store.list('BackupSession')).length, 0);
  });

  it('a report whose recording was cut off (the controller stopped, or the lease ran out, before its result was written) records the reported result when sent again, not AGENT_LOST', async () => {
    // What the first attempt leaves when the controller stops between taking the scheduled time
    // and writing its result (takeSlot, then complete): the session Running as this agent's
    // offline run. Its lease runs out before the agent, backing off, sends the report again.
    const name = scheduledSessionName('nightly', slotMs);
    const startedAt = new Date(slotMs + 1000).toISOString();
    await store.create({ apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: { name, namespace: 'default', labels: { 'sidestash.io/invoker': 'nightly' } }, spec: { invoker: { kind: 'BackupConfiguration', name: 'nightly', uid }, trigger: 'offline' }, status: { phase: 'Running', agent: agent.name, startedAt, leaseExpiresAt: new Date(Date.now() - 1000).toISOString() } } as never);
    sessions.watchingSinceMs = Date.now() - 3_600_000; // long after the controller started (no lease of grace)
    await sessions.sweep();
    assert.equal((await session(name))?.status?.error?.code, ErrorCodes.AGENT_LOST, 'the sweep ended it');
    // The agent's report arrives: what it ran is what is recorded, not "the agent stopped reporting".
    assert.deepEqual(await record(report()), { session: name, phase: 'Failed' });
    const s = (await session(name))!;
    assert.equal(s.status?.error?.code, 'SIDESTASH_DUMP_FAILED');
    assert.equal(s.spec.trigger, 'offline');
    const cfg = await store.get<unknown, BackupConfigurationStatus>('BackupConfiguration', 'default', 'nightly');
    assert.equal(cfg?.status?.consecutiveFailures, 1, 'counted once');
    // A provisional report (the agent was killed while it ran the backup) sent again changes nothing.
    assert.deepEqual(await record(report()), { session: name, phase: 'Failed' });
    assert.equal((await session(name))?.status?.error?.code, 'SIDESTASH_DUMP_FAILED');
  });

  it('the scheduler\'s session this agent claimed while it ran the same time offline, whose lease ran out while that backup finished, is taken over (the agent reports instead of running it: agent.ts ranOffline)', async () => {
    // The claim came in while the offline backup held the session lock; the agent reports once
    // that backup has finished, which takes longer than a lease: the sweep has ended the claim.
    const name = scheduledSessionName('nightly', slotMs);
    assert.ok(await sessions.createBackupSession('default', 'nightly', 'schedule', name));
    assert.ok(await sessions.claimNext(agent));
    const claimed = (await store.get<unknown, SessionStatus>('BackupSession', 'default', name))!;
    await store.updateStatus({ ...claimed, status: { ...claimed.status!, leaseExpiresAt: new Date(Date.now() - 1000).toISOString() } }, { ifVersion: claimed.metadata.resourceVersion! });
    sessions.watchingSinceMs = Date.now() - 3_600_000; // long after the controller started (no lease of grace)
    await sessions.sweep();
    assert.equal((await session(name))?.status?.error?.code, ErrorCodes.AGENT_LOST);
    assert.deepEqual(await record(report()), { session: name, phase: 'Failed' });
    const s = (await session(name))!;
    assert.equal(s.spec.trigger, 'offline');
    assert.equal(s.status?.error?.code, 'SIDESTASH_DUMP_FAILED');
    // Another agent's claim that ended so is not this agent's to take over.
    const other = scheduledSessionName('nightly', slotMs - 60_000);
    assert.ok(await sessions.createBackupSession('default', 'nightly', 'schedule', other));
    assert.ok(await sessions.claimNext({ ...agent, name: 'default/agent-1' }));
    await sessions.failSessionsOfAgent('default/agent-1', 'agent default/agent-1 stopped while the session was running');
    await refused(report({ scheduledAt: new Date(slotMs - 60_000).toISOString() }), ErrorCodes.CONFLICT);
  });

  it('the session finished when the offline backup did (its start and duration), not when the report came: last-success time and staleness alerts read it', async () => {
    const name = scheduledSessionName('nightly', slotMs);
    // Ran at the scheduled time, for 3 s; reported (here) up to a minute later.
    await record(report({ startedAt: new Date(slotMs).toISOString() }));
    const s = (await session(name))!;
    assert.equal(s.status?.startedAt, new Date(slotMs).toISOString());
    assert.equal(s.status?.finishedAt, new Date(slotMs + 3000).toISOString());
    assert.equal(s.status?.durationSeconds, 3);
  });

  it('a reported success is checked against the repository like any result: a snapshot that is not there fails it (RESULT_REJECTED)', async () => {
    const name = scheduledSessionName('nightly', slotMs);
    await refused(report({ result: { phase: 'Succeeded', snapshotId: 'a'.repeat(64) } }), ErrorCodes.RESULT_REJECTED);
    const s = (await session(name))!;
    assert.equal(s.status?.phase, 'Failed');
    assert.equal(s.status?.error?.code, ErrorCodes.RESULT_REJECTED);
  });
});
