// After a backup and after a failed backup, the real Pushgateway holds Stash's metrics with
// the right values; two targets do not overwrite each other.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBackup } from '../agent/backup-runner.ts';
import type { AgentConfig } from '../agent/config.ts';
import { MetricsPusher } from '../agent/metrics-pusher.ts';
import { createLogger } from '../common/log.ts';
import type { BackupAssignment, SessionResult } from '../common/protocol.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { startPushgateway } from './helpers/pushgateway.ts';
import type { Pushgateway } from './helpers/pushgateway.ts';
import { DB_PASSWORD, DB_USER, createShop } from './helpers/shop-db.ts';
import { testAgentConfig } from './helpers/agent-config.ts';
import { tempDir } from './helpers/tmp.ts';

const log = createLogger({}, { level: 'error' });

describe('metrics on the Pushgateway', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let pgw: Pushgateway;
  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    await createShop(db, 10_000);
    pgw = await startPushgateway();
  });
  after(async () => {
    await pgw.stop();
    await db.stop();
    await dir.cleanup();
  });

  it('records a success, then a failure, per target', async () => {
    const config: AgentConfig = testAgentConfig(dir.path, { targets: ['default/shop-db'], progressIntervalMs: 100 });
    const a = (host: string, password = DB_PASSWORD): BackupAssignment => ({
      kind: 'BackupSession', namespace: 'default', name: `${host}-1`, invoker: `${host}-backup`, target: `default/${host}`, repositoryName: 'shop-repo',
      database: { socket: db.socket, username: DB_USER, password },
      repository: { location: `local:${join(dir.path, 'repo')}`, password: 'pw', credentials: {} },
      dumpArgs: ['--databases', 'shop'], snapshotHost: host, filename: 'dumpfile.sql',
    });
    const pusher = new MetricsPusher(pgw.url, log);
    // Live progress while a session runs.
    pusher.progress(a('shop-db'), { bytesDumped: 1234, bytesStored: 100, rateBytesPerSecond: 617, etaSeconds: 9 });
    for (let i = 0; i < 50 && (await pgw.scrape('sidestash_session_progress_bytes')).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await pgw.scrape('sidestash_session_progress_bytes'))[0]?.value, 1234);
    assert.equal((await pgw.scrape('sidestash_session_running'))[0]?.value, 1);
    assert.equal((await pgw.scrape('sidestash_session_rate_bytes_per_second'))[0]?.value, 617);
    const hooks = { signal: new AbortController().signal, log, onProgress: () => {} };
    const ok = await runBackup(config, a('shop-db'), hooks);
    await pusher.sessionFinished(a('shop-db'), ok);
    const other = await runBackup(config, a('crm-db'), hooks);
    await pusher.sessionFinished(a('crm-db'), other);

    const value = async (metric: string, host: string): Promise<number | undefined> => (await pgw.scrape(metric)).find((s) => s.labels.hostname === host)?.value;
    const success = (await pgw.scrape('stash_backup_session_success')).find((s) => s.labels.hostname === 'shop-db')!;
    assert.equal(success.value, 1);
    assert.deepEqual(
      { invoker_kind: success.labels.invoker_kind, invoker_name: success.labels.invoker_name, namespace: success.labels.namespace, repository: success.labels.repository, kind: success.labels.kind, name: success.labels.name, driver: success.labels.driver },
      { invoker_kind: 'BackupConfiguration', invoker_name: 'shop-db-backup', namespace: 'default', repository: 'shop-repo', kind: 'AppBinding', name: 'shop-db', driver: 'Restic' },
    );
    assert.equal(await value('stash_backup_host_data_size_bytes', 'shop-db'), ok.bytesRead);
    assert.equal(await value('stash_backup_host_data_uploaded_bytes', 'shop-db'), ok.bytesStored);
    assert.equal(await value('stash_repository_snapshot_count', 'crm-db'), 2);
    assert.ok((await value('stash_repository_size_bytes', 'crm-db'))! > 10_000);
    const lastSuccess = (await value('stash_backup_last_success_time_seconds', 'shop-db'))!;
    assert.ok(Math.abs(lastSuccess - Date.now() / 1000) < 60);
    assert.equal(await value('sidestash_session_running', 'shop-db'), 0);
    assert.equal(await value('sidestash_backup_suspicious_shrink', 'shop-db'), 0);
    // A backup the shrink guard flagged: stored (success), and marked.
    const shrink = { previousSnapshotId: 'c'.repeat(64), previousBytes: 100_000, bytes: 10, percent: 0, thresholdPercent: 50 };
    await pusher.sessionFinished(a('small-db'), { ...ok, suspiciousShrink: shrink });
    assert.equal(await value('sidestash_backup_suspicious_shrink', 'small-db'), 1);
    assert.equal(await value('stash_backup_session_success', 'small-db'), 1);

    // A failed backup of shop-db: success 0, last success time kept, crm-db untouched.
    // The failure is captured outside the try, so that a backup that wrongly succeeds fails the test.
    const failure = await runBackup(config, a('shop-db', 'wrong'), hooks).then(
      () => undefined,
      (err: unknown) => err as { code: string; message: string },
    );
    assert.ok(failure, 'a backup with a wrong database password must fail');
    assert.equal(failure.code, 'SIDESTASH_DATABASE_UNAVAILABLE');
    const failed: SessionResult = { phase: 'Failed', error: { code: failure.code, message: failure.message }, durationSeconds: 0.1 };
    await pusher.sessionFinished(a('shop-db'), failed);
    assert.equal(await value('stash_backup_session_success', 'shop-db'), 0);
    assert.equal(await value('stash_backup_last_success_time_seconds', 'shop-db'), lastSuccess);
    assert.equal(await value('stash_backup_session_success', 'crm-db'), 1);
    assert.equal(await value('stash_backup_host_data_size_bytes', 'crm-db'), other.bytesRead);
  });
});
