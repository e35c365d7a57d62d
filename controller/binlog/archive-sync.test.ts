// Archive sync against the sqlite store: one agent at a time holds an archive; only enabled,
// unpaused configurations of its granted targets are handed out, with what the archiver needs;
// reports reach the configuration's status; a configuration that cannot be archived says why.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createLogger } from '../../common/log.ts';
import type { BackupConfigurationSpec, BackupConfigurationStatus, Resource } from '../resources/types.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { upsert } from '../store/upsert.ts';
import { syncArchives } from './archive-sync.ts';

const NS = 'shop';
const LEASE = 30_000;
const log = createLogger({}, { level: 'error' });
const store = new SqliteStore(':memory:');
const meta = (name: string) => ({ name, namespace: NS });
let clock = Date.parse('2026-12-01T12:00:00Z');
const now = () => clock;
const A = { name: 'shop/agent-a', targets: ['shop/db'] };
const B = { name: 'shop/agent-b', targets: ['shop/db', 'shop/other'] };
const config = (name: string, target: string, extra: Partial<BackupConfigurationSpec> = {}) => ({
  kind: 'BackupConfiguration', metadata: meta(name), spec: { schedule: '0 2 * * *', repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', name: target } }, ...extra },
});
const statusOf = async (name: string) => (await store.get<BackupConfigurationSpec, BackupConfigurationStatus>('BackupConfiguration', NS, name))?.status?.binlog;

before(async () => {
  for (const doc of [
    { kind: 'Secret', metadata: meta('secret'), spec: { stringData: { RESTIC_PASSWORD: 'pw', username: 'root', password: 'p' } } },
    { kind: 'Repository', metadata: meta('repo'), spec: { backend: { local: { path: '/tmp/repo' }, storageSecretName: 'secret' } } },
    { kind: 'AppBinding', metadata: meta('db'), spec: { clientConfig: { host: 'db', port: 3306 }, secret: { name: 'secret' } } },
    { kind: 'AppBinding', metadata: meta('other'), spec: { clientConfig: { host: 'other', port: 3306 }, secret: { name: 'missing' } } },
    config('nightly', 'db', { binlog: { enabled: true, flushIntervalSeconds: 5 } }),
    config('plain', 'db'),
    config('off', 'db', { binlog: { enabled: false } }),
    config('paused', 'db', { binlog: { enabled: true }, paused: true }),
    config('broken', 'other', { binlog: { enabled: true, replicaServerId: 4242 } }),
  ]) await upsert(store, { apiVersion: 'sidestash.io/v1', ...doc } as Resource);
});

describe('binlog archive sync', () => {
  it('hands an enabled, unpaused configuration of its targets to the first agent, with the database, repository and settings', async () => {
    const got = await syncArchives(store, A, [], LEASE, log, now);
    assert.deepEqual(got.map((a) => a.configuration), ['shop/nightly']);
    const a = got[0]!;
    assert.deepEqual([a.target, a.snapshotHost, a.repositoryName, a.flushIntervalSeconds, a.database.host, a.repository.location, a.repository.password, a.leaseMs], ['shop/db', 'db', 'repo', 5, 'db', 'local:/tmp/repo', 'pw', LEASE]);
    assert.ok(a.replicaServerId >= 0x80000000 && a.replicaServerId <= 0xffffffff, String(a.replicaServerId));
    assert.equal((await statusOf('nightly'))?.agent, 'shop/agent-a');
  });

  it('gives another agent nothing while the lease runs, and the archive after the lease and a grace period', async () => {
    const forB = async () => (await syncArchives(store, B, [], LEASE, log, now)).map((a) => a.configuration);
    assert.deepEqual(await forB(), []);
    clock += LEASE + 1;
    assert.deepEqual(await forB(), [], 'the holder may still be stopping');
    clock += LEASE;
    assert.deepEqual(await forB(), ['shop/nightly']);
    assert.equal((await statusOf('nightly'))?.agent, 'shop/agent-b');
    assert.deepEqual((await syncArchives(store, A, [{ configuration: 'shop/nightly', position: 1 }], LEASE, log, now)).length, 0, 'the old holder is refused');
  });

  it("records its holder's reports on the configuration's status, and ignores others'", async () => {
    clock += 1000;
    await syncArchives(store, B, [{ configuration: 'shop/nightly', chain: '0123456789abcdef', file: 'mysql-bin.000003', position: 4096, gaps: 1, lastGap: { detectedAt: '2026-12-01T12:00:00.000Z', message: 'purged before archived' } }, { configuration: 'shop/plain', position: 9 }], LEASE, log, now);
    const s = await statusOf('nightly');
    assert.deepEqual([s?.file, s?.position, s?.gaps, s?.lastGap?.message], ['mysql-bin.000003', 4096, 1, 'purged before archived']);
    assert.equal(await statusOf('plain'), undefined);
  });

  it('says on the status why a configuration cannot be archived, and hands it to nobody', async () => {
    const got = await syncArchives(store, { name: 'shop/agent-c', targets: ['shop/other'] }, [], LEASE, log, now);
    assert.deepEqual(got, []);
    assert.match((await statusOf('broken'))?.error?.message ?? '', /Secret shop\/missing/);
  });
});
