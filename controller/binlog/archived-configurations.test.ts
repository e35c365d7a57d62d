// The agents' archive syncs read the configurations with archiving on as the change feed keeps
// them (archived-configurations.ts), not every configuration at every sync; their answers are
// the ones a full listing gives, through enabling, disabling, pausing and deleting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../common/log.ts';
import type { Resource } from '../resources/types.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { upsert } from '../store/upsert.ts';
import { syncArchives } from './archive-sync.ts';
import { ArchivedConfigurations } from './archived-configurations.ts';

const NS = 'shop';
const LEASE = 30_000;
const log = createLogger({}, { level: 'error' });
const meta = (name: string) => ({ name, namespace: NS });
const config = (name: string, target: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: meta(name), spec: { schedule: '0 2 * * *', repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', name: target } }, ...extra },
}) as Resource;

describe('configurations with binlog archiving on, kept for the archive syncs', () => {
  it('are those a full listing shows, and no sync reads a configuration list', async () => {
    const store = new SqliteStore(':memory:');
    for (const doc of [
      { kind: 'Secret', metadata: meta('secret'), spec: { stringData: { RESTIC_PASSWORD: 'pw', username: 'root', password: 'p' } } },
      { kind: 'Repository', metadata: meta('repo'), spec: { backend: { local: { path: '/tmp/repo' }, storageSecretName: 'secret' } } },
      { kind: 'AppBinding', metadata: meta('db'), spec: { clientConfig: { host: 'db', port: 3306 }, secret: { name: 'secret' } } },
    ]) await upsert(store, { apiVersion: 'sidestash.io/v1', ...doc } as Resource);
    for (let i = 0; i < 20; i++) await upsert(store, config(`plain-${i}`, `site-${i}`));
    let lists = 0;
    const list = store.list.bind(store);
    store.list = ((...args: Parameters<SqliteStore['list']>) => (lists++, list(...args))) as SqliteStore['list'];
    let clock = Date.parse('2026-12-01T12:00:00Z');
    const now = () => clock;
    const kept = new ArchivedConfigurations(store, { now });
    const agent = (name: string) => ({ name: `shop/${name}`, targets: ['shop/db'] });
    // Each step: the kept ones are those a full listing shows with archiving on, and a sync through them hands out the archive.
    let step = 0;
    const check = async (want: string[]): Promise<void> => {
      const full = (await list('BackupConfiguration')).filter((c) => (c.spec as { binlog?: { enabled?: boolean } }).binlog?.enabled === true).map((c) => c.metadata.name);
      assert.deepEqual((await kept.list()).map((c) => c.metadata.name), full);
      assert.deepEqual((await syncArchives(store, agent(`a-${++step}`), [], LEASE, log, now, () => kept.list())).map((a) => a.configuration), want);
      clock += LEASE + 1; // the lease ends before the next step
    };
    await check([]);
    await upsert(store, config('nightly', 'db', { binlog: { enabled: true } }));
    await upsert(store, config('weekly', 'db', { binlog: { enabled: true } }));
    await check(['shop/nightly']);
    await upsert(store, config('nightly', 'db', { binlog: { enabled: true }, paused: true }));
    await check(['shop/weekly']);
    await upsert(store, config('weekly', 'db', { binlog: { enabled: false } }));
    await check([]);
    await upsert(store, config('nightly', 'db', { binlog: { enabled: true } }));
    await check(['shop/nightly']);
    await store.delete('BackupConfiguration', NS, 'nightly');
    await check([]);
    // Read from the store once per maxAgeMs, not at each sync.
    await kept.list();
    lists = 0;
    for (let i = 0; i < 10; i++) await syncArchives(store, agent('k'), [], LEASE, log, now, () => kept.list());
    assert.equal(lists, 0);
    clock += 30_000;
    await kept.list();
    assert.equal(lists, 1, 'read again after maxAgeMs');
    store.close();
  });
});
