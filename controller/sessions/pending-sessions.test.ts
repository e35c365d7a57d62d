// The Pending sessions by target (pending-sessions.ts) that claimNext searches and that wake an
// agent's long-poll: an agent's poll reads only the Pending sessions of its own targets, and a
// poll is woken only for a session of its targets; what is kept is never wrong for long.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../common/log.ts';
import type { Resource } from '../resources/types.ts';
import type { AgentRecord } from '../store/store.ts';
import { Store } from '../store/store.ts';
import { upsert } from '../store/upsert.ts';
import { seedNightly } from './session-fixture.ts';
import { SessionManager } from './session-manager.ts';

const agentOf = (name: string, targets: string[]): AgentRecord => ({ name: `default/${name}`, tokenSha256: 'x', targets, version: 't', registeredAt: '', lastSeenAt: '' });
const db = agentOf('agent-db', ['default/db']);
const other = agentOf('agent-other', ['default/other']);
const progress = { bytesDumped: 1, bytesStored: 1, rateBytesPerSecond: 1 };

async function setUp(): Promise<{ store: Store; sessions: SessionManager; clock: { now: number }; reads: { list: number; get: number }; woken: (string | undefined)[] }> {
  const store = new Store(':memory:');
  await seedNightly(store);
  await upsert(store, { apiVersion: 'sidestash.io/v1', kind: 'AppBinding', metadata: { name: 'other', namespace: 'default' }, spec: { clientConfig: { socket: '/run/mysqld/mysqld.sock' }, secret: { name: 'db-secret' } } } as Resource);
  const reads = { list: 0, get: 0 };
  const list = store.list.bind(store);
  const get = store.get.bind(store);
  store.list = ((...args: Parameters<Store['list']>) => (reads.list++, list(...args))) as Store['list'];
  store.get = ((...args: Parameters<Store['get']>) => (reads.get++, get(...args))) as Store['get'];
  const clock = { now: Date.parse('2026-03-01T10:00:00Z') };
  const sessions = new SessionManager(store, createLogger({}, { level: 'error' }), { leaseMs: 60_000, now: () => clock.now });
  const woken: (string | undefined)[] = [];
  sessions.pending.onClaimable((t) => woken.push(t));
  return { store, sessions, clock, reads, woken };
}

/** Lets the reads of a new session's target finish. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

describe('Pending sessions by target', () => {
  it('a poll of an agent with no Pending session of its targets reads nothing', async () => {
    const s = await setUp();
    assert.equal(await s.sessions.claimNext(db), undefined); // the first poll reads them all
    await s.sessions.createBackupSession('default', 'nightly', 'manual');
    await settle();
    s.reads.list = 0;
    s.reads.get = 0;
    for (let i = 0; i < 100; i++) assert.equal(await s.sessions.claimNext(other), undefined);
    assert.deepEqual(s.reads, { list: 0, get: 0 }, 'no session or configuration read for another target');
    const a = await s.sessions.claimNext(db);
    assert.equal(a?.target, 'default/db');
    assert.equal(s.reads.list, 0, 'the claim read its candidates, not every session');
  });

  it('wakes the polls of the session\'s target when it becomes claimable, not at every write', async () => {
    const s = await setUp();
    await s.sessions.claimNext(other); // the first poll reads them all
    const created = (await s.sessions.createBackupSession('default', 'nightly', 'manual'))!;
    await settle();
    assert.deepEqual(s.woken, ['default/db']);
    await s.sessions.claimNext(db);
    for (let i = 0; i < 5; i++) await s.sessions.progress('BackupSession', 'default', created.metadata.name, db.name, progress);
    await s.sessions.complete('BackupSession', 'default', created.metadata.name, db.name, { phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'x' } });
    await settle();
    assert.deepEqual(s.woken, ['default/db'], 'claims, progress and results wake no poll');
  });

  it('a configuration pointed at another target while its session waits: that target\'s agent gets it', async () => {
    const s = await setUp();
    await s.sessions.claimNext(db);
    await s.sessions.createBackupSession('default', 'nightly', 'manual');
    await settle();
    const cfg = (await s.store.get('BackupConfiguration', 'default', 'nightly'))!;
    await s.store.update({ ...cfg, spec: { ...cfg.spec, target: { ref: { name: 'other' } } } }, { ifVersion: cfg.metadata.resourceVersion! });
    await settle();
    assert.deepEqual(s.woken, ['default/db', 'default/other']);
    assert.equal(await s.sessions.claimNext(db), undefined);
    assert.equal((await s.sessions.claimNext(other))?.target, 'default/other');
  });

  it('a session the change feed did not tell of is found at the next full read, within maxAgeMs', async () => {
    const s = await setUp();
    await s.sessions.claimNext(db);
    // Written behind the feed's back (as a Kubernetes watch may miss an event across a re-list).
    const doc = { apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: { name: 'missed', namespace: 'default', uid: 'u-missed', creationTimestamp: new Date(s.clock.now).toISOString() }, spec: { invoker: { kind: 'BackupConfiguration', name: 'nightly' }, trigger: 'manual' }, status: { phase: 'Pending' } };
    s.store.db.prepare('INSERT INTO resources (kind, namespace, name, doc, resource_version) VALUES (?, ?, ?, ?, ?)').run('BackupSession', 'default', 'missed', JSON.stringify(doc), 999);
    assert.equal(await s.sessions.claimNext(db), undefined, 'not known yet');
    s.clock.now += 30_000;
    assert.equal((await s.sessions.claimNext(db))?.name, 'missed');
  });
});
