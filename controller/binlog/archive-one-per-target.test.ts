// Found by an adversarial review of issue 14: two archivers on one archive. The lease is kept per
// BackupConfiguration, but an archive is the target's binary log in a repository (snapshots found
// by target, archive-layout.ts; the archiver resumes whatever chain the target has there). Two
// configurations of one target and one repository with spec.binlog.enabled (an hourly and a
// nightly schedule, say) are leased independently: two archivers, on one agent or on two, resume
// the same chain and replace each other's snapshots of the active file. Nothing refuses the
// second configuration (no admission rule), and the sync hands out both.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createLogger } from '../../common/log.ts';
import type { Resource } from '../resources/types.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { upsert } from '../store/upsert.ts';
import { syncArchives } from './archive-sync.ts';

const NS = 'shop';
const LEASE = 30_000;
const log = createLogger({}, { level: 'error' });
const store = new SqliteStore(':memory:');
const meta = (name: string) => ({ name, namespace: NS });
const clock = Date.parse('2026-12-01T12:00:00Z');
const now = () => clock;
const A = { name: 'shop/agent-a', targets: ['shop/db'] };
const B = { name: 'shop/agent-b', targets: ['shop/db'] };
const config = (name: string, schedule: string) => ({
  kind: 'BackupConfiguration',
  metadata: meta(name),
  spec: { schedule, repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', name: 'db' } }, binlog: { enabled: true } },
});

before(async () => {
  for (const doc of [
    { kind: 'Secret', metadata: meta('secret'), spec: { stringData: { RESTIC_PASSWORD: 'pw', username: 'root', password: 'p' } } },
    { kind: 'Repository', metadata: meta('repo'), spec: { backend: { local: { path: '/tmp/repo' }, storageSecretName: 'secret' } } },
    { kind: 'AppBinding', metadata: meta('db'), spec: { clientConfig: { host: 'db', port: 3306 }, secret: { name: 'secret' } } },
    config('nightly', '0 2 * * *'),
    config('hourly', '0 * * * *'),
  ]) await upsert(store, { apiVersion: 'sidestash.io/v1', ...doc } as Resource);
});

describe('binlog archive sync', () => {
  it('never hands out two archivers of one target into one repository', async () => {
    const key = (a: { target: string; repository: { location: string } }) => `${a.target} -> ${a.repository.location}`;
    const toA = (await syncArchives(store, A, [], LEASE, log, now)).map(key);
    const toB = (await syncArchives(store, B, [], LEASE, log, now)).map(key);
    const all = [...toA, ...toB];
    assert.equal(new Set(all).size, all.length, `archivers handed out: agent a ${JSON.stringify(toA)}, agent b ${JSON.stringify(toB)}`);
    assert.equal(all.length, 1, 'one of them archives');
    // The other says why on its status (its archive metric shows it down).
    const statuses = await Promise.all(['nightly', 'hourly'].map(async (n) => (await store.get<unknown, { binlog?: { error?: { code: string; message: string } } }>('BackupConfiguration', NS, n))?.status?.binlog?.error));
    assert.equal(statuses.filter((e) => e?.code === 'SIDESTASH_CONFLICT' && /already archives the binary log of this target into this repository/.test(e.message)).length, 1, JSON.stringify(statuses));
  });
});
