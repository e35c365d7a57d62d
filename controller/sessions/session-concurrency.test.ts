// The session manager under concurrent writers (resource-store.ts offers compare-and-swap per
// object only): a write that another came before is re-decided on fresh state, a claim that loses
// its swap skips the session, and what one object's version cannot protect (one active session per
// configuration) holds through the manager's mutex. The races are made deterministic by a store
// that runs the competing write just before the manager's own.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import type { Resource, SessionStatus } from '../resources/types.ts';
import type { AgentRecord } from '../store/agent-directory.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { scheduledSessionName } from '../../common/scheduled-name.ts';
import { seedNightly } from './session-fixture.ts';
import { SessionManager } from './session-manager.ts';
import type { SessionStore } from './session-manager.ts';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const LEASE_MS = 60_000;
const agentA: AgentRecord = { name: 'default/agent-a', tokenSha256: 'x', targets: ['default/db'], version: 't', registeredAt: '', lastSeenAt: '' };
const agentB: AgentRecord = { ...agentA, name: 'default/agent-b' };

type Hook = (r: Resource<unknown, unknown>) => Promise<void>;

/** The store, with `hook.before` run before each updateStatus: a competing writer's moment. */
function interposed(store: SqliteStore, hook: { before?: Hook }): SessionStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'updateStatus') {
        return async (r: Resource<unknown, unknown>, p: { ifVersion: string }) => {
          const before = hook.before;
          if (before) await before(r);
          return target.updateStatus(r, p);
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as SessionStore;
}

async function setUp() {
  const store = new SqliteStore(':memory:');
  await seedNightly(store);
  const hook: { before?: Hook } = {};
  const clock = { now: T0 };
  const sessions = new SessionManager(interposed(store, hook), createLogger({}, { level: 'error' }), { leaseMs: LEASE_MS, now: () => clock.now });
  const status = async (kind: 'BackupSession' | 'RestoreSession', name: string) => (await store.get<unknown, SessionStatus>(kind, 'default', name))?.status;
  return { store, hook, clock, sessions, status };
}

describe('session manager: concurrent writers', () => {
  let s: Awaited<ReturnType<typeof setUp>>;
  beforeEach(async () => (s = await setUp()));

  it('a claim that loses its Pending -> Running swap (cancelled meanwhile) skips that session and claims the next', async () => {
    const backup = (await s.sessions.createBackupSession('default', 'nightly', 'manual'))!.metadata.name;
    s.clock.now += 1000;
    await s.store.create({ apiVersion: 'sidestash.io/v1', kind: 'RestoreSession', metadata: { name: 'restore', namespace: 'default', creationTimestamp: new Date(s.clock.now).toISOString() }, spec: { repository: { name: 'repo' }, target: { ref: { name: 'db' } } }, status: { phase: 'Pending' } });
    let raced = 0;
    s.hook.before = async (r) => {
      if (r.metadata.name !== backup || (r.status as SessionStatus).phase !== 'Running' || raced++ > 0) return;
      await s.sessions.cancel('BackupSession', 'default', backup); // another request, between the claim's read and its write
    };
    const claimed = await s.sessions.claimNext(agentA);
    assert.equal(raced, 1, 'the race happened');
    assert.equal(claimed?.name, 'restore', 'the next session in the queue is claimed');
    assert.equal((await s.status('BackupSession', backup))?.phase, 'Cancelled', 'the cancel stands: the claim did not overwrite it');
    assert.equal((await s.status('RestoreSession', 'restore'))?.agent, agentA.name);
  });

  it('two claims at once by two agents: each session goes to exactly one of them', async () => {
    const name = (await s.sessions.createBackupSession('default', 'nightly', 'manual'))!.metadata.name;
    const [a, b] = await Promise.all([s.sessions.claimNext(agentA), s.sessions.claimNext(agentB)]);
    assert.deepEqual([a?.name, b?.name].filter(Boolean), [name]);
    assert.equal((await s.status('BackupSession', name))?.agent, a ? agentA.name : agentB.name);
  });

  it('two creates at once for one configuration: one session, the other is refused as an overlap', async () => {
    const made = await Promise.all([s.sessions.createBackupSession('default', 'nightly', 'manual'), s.sessions.createBackupSession('default', 'nightly', 'schedule')]);
    assert.equal(made.filter(Boolean).length, 1, 'no two active sessions of one configuration');
    assert.equal((await s.store.list('BackupSession')).length, 1);
  });

  it('a sweep that would fail a session whose lease a report renewed meanwhile decides again, on the renewed lease', async () => {
    const name = (await s.sessions.createBackupSession('default', 'nightly', 'manual'))!.metadata.name;
    await s.sessions.claimNext(agentA);
    s.clock.now = T0 + LEASE_MS + 1; // the lease has just run out
    let raced = 0;
    s.hook.before = async (r) => {
      if ((r.status as SessionStatus).phase !== 'Failed' || raced++ > 0) return;
      // The agent's progress report lands between the sweep's read and its write.
      await s.sessions.progress('BackupSession', 'default', name, agentA.name, { bytesDumped: 1, bytesStored: 1, rateBytesPerSecond: 1 });
    };
    await s.sessions.sweep();
    assert.equal(raced, 1, 'the race happened');
    const st = await s.status('BackupSession', name);
    assert.equal(st?.phase, 'Running', 'the renewed lease wins');
    assert.equal(st?.leaseExpiresAt, new Date(s.clock.now + LEASE_MS).toISOString());
    assert.deepEqual(await s.sessions.progress('BackupSession', 'default', name, agentA.name, { bytesDumped: 2, bytesStored: 2, rateBytesPerSecond: 1 }), { cancel: false });
  });

  it('a result and a cancel at once: the cancel asked for before the result makes it Cancelled, whichever write came first', async () => {
    const name = (await s.sessions.createBackupSession('default', 'nightly', 'manual'))!.metadata.name;
    await s.sessions.claimNext(agentA);
    let raced = 0;
    s.hook.before = async (r) => {
      if ((r.status as SessionStatus).phase !== 'Failed' || raced++ > 0) return;
      await s.sessions.cancel('BackupSession', 'default', name);
    };
    const done = await s.sessions.complete('BackupSession', 'default', name, agentA.name, { phase: 'Failed', error: { code: ErrorCodes.SESSION_CANCELLED, message: 'stopped' } });
    assert.equal(raced, 1, 'the race happened');
    assert.equal(done.status?.phase, 'Cancelled', 'the result was decided again, with the cancel request');
  });

  it('a scheduled run created twice (two controllers around a failover) is one session: the second create conflicts', async () => {
    const name = scheduledSessionName('nightly', Date.parse('2026-03-02T03:00:00Z'));
    const first = await s.sessions.createBackupSession('default', 'nightly', 'schedule', name);
    assert.equal(first?.metadata.name, 'nightly-1772420400');
    await s.sessions.claimNext(agentA);
    await s.sessions.complete('BackupSession', 'default', name, agentA.name, { phase: 'Failed', error: { code: ErrorCodes.DUMP_FAILED, message: 'x' } });
    await assert.rejects(s.sessions.createBackupSession('default', 'nightly', 'schedule', name), (err) => isSidestashError(err, ErrorCodes.CONFLICT));
    assert.equal((await s.store.list('BackupSession')).length, 1, 'it did not run twice');
  });
});
