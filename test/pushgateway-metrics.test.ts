// The controller pushes Stash's metrics to a real Pushgateway for every terminal phase,
// whoever decides it: an agent's report, a lease expiry (dead agent), a refused configuration.
// Two configurations on one target keep their own groups; live progress goes while a session
// runs and is deleted at its end; deleting an invoker deletes its groups; a restart or a
// Pushgateway outage never leaves an older outcome showing. (In-process controller; sessions
// driven through its SessionManager as an agent would, the Pushgateway behind a fault proxy.)
import assert from 'node:assert/strict';
import { upsert } from '../controller/store/upsert.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../common/log.ts';
import { parseControllerConfig } from '../controller/config.ts';
import type { ControllerConfig } from '../controller/config.ts';
import { Controller } from '../controller/controller.ts';
import type { AgentRecord } from '../controller/store/store.ts';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { Repository } from '../common/repository/repository.ts';
import { targetTags } from '../common/repository/snapshot-selector.ts';
import { SnapshotWriteStream } from '../common/repository/snapshot-writer.ts';
import { latestRunAt } from '../common/schedule.ts';
import { scheduledSessionName } from '../common/scheduled-name.ts';
import { recordOfflineSession } from '../controller/offline/record-offline-session.ts';
import { startFaultyProxy } from './helpers/faulty-proxy.ts';
import type { FaultyProxy } from './helpers/faulty-proxy.ts';
import { startPushgateway } from './helpers/pushgateway.ts';
import type { Pushgateway } from './helpers/pushgateway.ts';

const quiet = createLogger({}, { level: 'error' });
const ADMIN = 'admin-token-0123456789abcdef';
const SNAP = 'a'.repeat(64);

const resources = (repoPath: string) => [
  { kind: 'Secret', metadata: { name: 'repo-secret' }, spec: { stringData: { RESTIC_PASSWORD: 'pw' } } },
  { kind: 'Secret', metadata: { name: 'db-secret' }, spec: { stringData: { username: 'u', password: 'p' } } },
  { kind: 'Repository', metadata: { name: 'repo' }, spec: { backend: { local: { path: repoPath }, storageSecretName: 'repo-secret' } } },
  { kind: 'AppBinding', metadata: { name: 'db' }, spec: { type: 'kubedb.com/mariadb', clientConfig: { socket: '/run/mysqld/mysqld.sock' }, secret: { name: 'db-secret' } } },
  { kind: 'BackupConfiguration', metadata: { name: 'nightly' }, spec: { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } } },
  { kind: 'BackupConfiguration', metadata: { name: 'hourly' }, spec: { schedule: '0 * * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } } },
  // Paused: the schedule fires nothing here; an agent that ran it offline still reports it.
  { kind: 'BackupConfiguration', metadata: { name: 'minutely' }, spec: { schedule: '* * * * *', paused: true, repository: { name: 'repo' }, target: { ref: { name: 'db' } } } },
];

describe('session metrics on a real Pushgateway, pushed by the controller', () => {
  let dir: string;
  let pgw: Pushgateway;
  let proxy: FaultyProxy;
  let config: ControllerConfig;
  let c: Controller;
  const agent = (): AgentRecord => ({ name: 'default/agent', tokenSha256: '', targets: ['default/db'], version: 't', registeredAt: new Date().toISOString(), lastSeenAt: new Date().toISOString() });
  const startController = async (): Promise<void> => {
    c = new Controller(config, quiet);
    await c.start();
  };
  const job = (name: string) => async (metric: string) => (await pgw.scrape(metric)).filter((s) => s.labels.job === name);
  const nightly = job('backupconfiguration-default-nightly');
  const hourly = job('backupconfiguration-default-hourly');
  const runBackup = async (configName: string, result: Parameters<Controller['sessions']['complete']>[4], progress?: () => Promise<void>): Promise<void> => {
    const s = (await c.sessions.createBackupSession('default', configName, 'manual'))!;
    const a = (await c.sessions.claimNext(agent()));
    assert.equal(a?.name, s.metadata.name);
    if (progress) await progress();
    (await c.sessions.complete('BackupSession', 'default', s.metadata.name, 'default/agent', result));
    await c.pushgateway!.idle();
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sidestash-pgw-metrics-'));
    pgw = await startPushgateway();
    proxy = await startFaultyProxy(pgw.url);
    config = parseControllerConfig({
      SIDESTASH_LISTEN: '127.0.0.1:0', SIDESTASH_DB: join(dir, 'c.db'), SIDESTASH_ADMIN_TOKEN: ADMIN, SIDESTASH_INSECURE_HTTP: 'true',
      SIDESTASH_SESSION_LEASE: '60s', SIDESTASH_SWEEP_INTERVAL: '100ms', SIDESTASH_PUSHGATEWAY_URL: proxy.url,
    });
    await startController();
    (await c.resources.applyAll(resources(join(dir, 'repo'))));
  });
  after(async () => {
    await c?.stop();
    await proxy?.stop();
    await pgw?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a success and a failure of two configurations on one target: each in its own Stash job, with Stash\'s labels', async () => {
    let progressSeen: { labels: Record<string, string>; value: number }[] = [];
    await runBackup('nightly', { phase: 'Succeeded', snapshotId: SNAP, bytesRead: 1000, bytesStored: 300, durationSeconds: 2, processingSeconds: 1.5, files: { new: 1, modified: 0, unmodified: 0 }, repositoryStats: { sizeBytes: 4096, snapshotCount: 1 }, integrity: { ok: true, checkedAt: new Date().toISOString(), errors: [] } }, async () => {
      const s = (await c.store.list('BackupSession')).find((x) => (x.status as { phase?: string })?.phase === 'Running')!;
      (await c.sessions.progress('BackupSession', 'default', s.metadata.name, 'default/agent', { bytesDumped: 600, bytesStored: 200, rateBytesPerSecond: 300, etaSeconds: 2 }));
      await c.pushgateway!.idle();
      progressSeen = await pgw.scrape('sidestash_session_progress_bytes');
    });
    assert.deepEqual(progressSeen.map((s) => [s.labels.job, s.labels.namespace, s.labels.invoker_kind, s.labels.invoker_name, s.labels.name, s.value]), [['sidestash-progress', 'default', 'BackupConfiguration', 'nightly', 'db', 600]], 'live progress while it ran');
    assert.deepEqual(await pgw.scrape('sidestash_session_progress_bytes'), [], 'progress deleted at the end');
    await runBackup('hourly', { phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'mariadb-dump exited with code 2' } });

    const [ok] = await nightly('stash_backup_session_success');
    assert.equal(ok?.value, 1);
    const { instance: _i, ...labels } = ok!.labels;
    assert.deepEqual(labels, { job: 'backupconfiguration-default-nightly', invoker_kind: 'BackupConfiguration', invoker_name: 'nightly', namespace: 'default', driver: 'Restic', repository: 'repo' });
    assert.deepEqual((await nightly('stash_backup_host_backup_success')).map((s) => [s.labels.kind, s.labels.group, s.labels.name, s.labels.hostname, s.value]), [['mariadb', 'kubedb.com', 'db', 'host-0', 1]]);
    assert.equal((await nightly('stash_backup_host_data_size_bytes'))[0]?.value, 1000);
    assert.equal((await nightly('stash_backup_host_data_processing_time_seconds'))[0]?.value, 1.5);
    assert.equal((await nightly('stash_backup_host_files_new'))[0]?.value, 1);
    assert.equal((await nightly('stash_appscode_com_backupsession_success'))[0]?.value, 1, 'Stash\'s newer names too');
    assert.deepEqual((await nightly('stash_repository_size_bytes')).map((s) => [s.labels.name, s.labels.backend, s.value]), [['repo', 'local', 4096]]);
    assert.deepEqual((await nightly('stash_repository_integrity')).map((s) => s.value), [1]);
    assert.equal((await hourly('stash_backup_session_success'))[0]?.value, 0, 'the failing configuration shows its failure');
    assert.deepEqual(await hourly('stash_backup_last_success_time_seconds'), [], 'and no success it never had');
  });

  it('a backup an agent ran offline is pushed when the controller records it, timed from when the agent ran it', async () => {
    const minutely = job('backupconfiguration-default-minutely');
    assert.deepEqual(await minutely('stash_backup_session_success'), []);
    const uid = (await c.store.get('BackupConfiguration', 'default', 'minutely'))!.metadata.uid!;
    const slotMs = latestRunAt({ schedule: '* * * * *' }, Date.now())!;
    const slot = new Date(slotMs).toISOString();
    // The snapshot the agent stored offline: the session's scheduled name, no session uid.
    const repo = await Repository.init(new LocalBackend(join(dir, 'repo')), 'pw');
    const writer = new SnapshotWriteStream(repo, { filename: 'dumpfile.sql', hostname: 'db', tags: ['invoker=minutely', `session=${scheduledSessionName('minutely', slotMs)}`, ...targetTags({ namespace: 'default', name: 'db' })] });
    await pipeline(Readable.from([Buffer.from('-- a dump\n')]), writer);
    const report = { configuration: 'minutely', configurationUid: uid, scheduledAt: slot, startedAt: slot, result: { phase: 'Succeeded' as const, snapshotId: writer.result!.snapshotId, bytesRead: 10, durationSeconds: 1 } };
    assert.equal((await recordOfflineSession(c.sessions, agent(), report, AbortSignal.timeout(30_000), quiet)).phase, 'Succeeded');
    await c.pushgateway!.idle();
    assert.deepEqual((await minutely('stash_backup_session_success')).map((x) => [x.labels.invoker_name, x.value]), [['minutely', 1]]);
    assert.equal((await minutely('stash_backup_host_backup_duration_seconds'))[0]?.value, 1);
    // From when the agent started it, not from when the controller heard of it; and the last
    // success is when the backup ended on the agent (its start plus its duration, never later than now).
    const took = (await minutely('stash_backup_session_duration_seconds'))[0]?.value ?? -1;
    assert.ok(took > 0 && took <= 1, `session duration ${took}`);
    const at = (await minutely('stash_backup_last_success_time_seconds'))[0]?.value ?? 0;
    assert.ok(at <= slotMs / 1000 + 1 && at > slotMs / 1000, `last success ${at}, scheduled ${slotMs / 1000}`);
  });

  it('a session the controller fails (lease expired: the agent died) is pushed as a failure, and the last success time stays', async () => {
    const before = (await nightly('stash_backup_last_success_time_seconds'))[0]?.value;
    assert.ok(before !== undefined);
    const s = (await c.sessions.createBackupSession('default', 'nightly', 'schedule'))!;
    (await c.sessions.claimNext(agent()));
    (await c.sessions.progress('BackupSession', 'default', s.metadata.name, 'default/agent', { bytesDumped: 10, bytesStored: 0, rateBytesPerSecond: 5 }));
    // The agent is gone: its lease runs out (moved into the past rather than waited for, and so
    // is the controller's start, which would give the agent a lease of grace).
    c.sessions.watchingSinceMs = Date.now() - 3_600_000;
    const cur = (await c.store.get('BackupSession', 'default', s.metadata.name))!;
    (await upsert(c.store, { ...cur, status: { ...(cur.status as object), leaseExpiresAt: new Date(Date.now() - 1000).toISOString() } }));
    (await c.sessions.sweep());
    assert.equal(((await c.store.get('BackupSession', 'default', s.metadata.name))!.status as { phase: string }).phase, 'Failed');
    await c.pushgateway!.idle();
    assert.equal((await nightly('stash_backup_session_success'))[0]?.value, 0);
    assert.equal((await nightly('stash_backup_last_success_time_seconds'))[0]?.value, before);
    assert.deepEqual(await pgw.scrape('sidestash_session_running'), [], 'no "running" series left by the dead agent');
  });

  it('a cancelled session is pushed as no success (Stash knows no Cancelled phase), and the last success time stays', async () => {
    await runBackup('nightly', { phase: 'Succeeded', snapshotId: SNAP, bytesRead: 1, bytesStored: 1 });
    assert.equal((await nightly('stash_backup_session_success'))[0]?.value, 1);
    const before = (await nightly('stash_backup_last_success_time_seconds'))[0]?.value;
    assert.ok(before !== undefined);
    const s = (await c.sessions.createBackupSession('default', 'nightly', 'manual'))!;
    assert.equal((await c.sessions.cancel('BackupSession', 'default', s.metadata.name)).status?.phase, 'Cancelled');
    await c.pushgateway!.idle();
    assert.equal((await nightly('stash_backup_session_success'))[0]?.value, 0);
    assert.equal((await nightly('stash_backup_last_success_time_seconds'))[0]?.value, before);
  });

  it('a session refused at claim (its Secret deleted) is pushed as a failure', async () => {
    await runBackup('nightly', { phase: 'Succeeded', snapshotId: SNAP, bytesRead: 1, bytesStored: 1 });
    assert.equal((await nightly('stash_backup_session_success'))[0]?.value, 1);
    (await c.resources.delete('Secret', 'default', 'repo-secret', { force: true }));
    (await c.sessions.createBackupSession('default', 'nightly', 'manual'));
    assert.equal((await c.sessions.claimNext(agent())), undefined);
    await c.pushgateway!.idle();
    assert.equal((await nightly('stash_backup_session_success'))[0]?.value, 0);
    (await c.resources.applyAll(resources(join(dir, 'repo')).slice(0, 1)));
  });

  it('a failed integrity check is pushed as stash_repository_integrity 0 on a backup that succeeded', async () => {
    await runBackup('nightly', { phase: 'Succeeded', snapshotId: SNAP, bytesRead: 1, bytesStored: 1, integrity: { ok: false, checkedAt: new Date().toISOString(), readDataSubset: '100%', errors: ['pack 1234: checksum mismatch'] } });
    assert.equal((await nightly('stash_backup_session_success'))[0]?.value, 1);
    assert.deepEqual((await nightly('stash_repository_integrity')).map((s) => s.value), [0]);
    assert.deepEqual((await nightly('stash_appscode_com_repository_integrity')).map((s) => s.value), [0]);
  });

  it('an outage: 503s are retried; after a restart the newest outcome is pushed again', async () => {
    proxy.decide = (_req, n) => (n % 2 === 1 ? { kind: 'status', status: 503, body: 'busy' } : undefined);
    await runBackup('hourly', { phase: 'Succeeded', snapshotId: SNAP, bytesRead: 5, bytesStored: 5 });
    assert.equal((await hourly('stash_backup_session_success'))[0]?.value, 1, 'pushed through the 503s');
    proxy.decide = () => undefined;
    // The Pushgateway loses the group (restarted without persistence); so does the controller.
    await fetch(`${pgw.url}/metrics/job/backupconfiguration-default-hourly`, { method: 'DELETE' });
    await c.stop();
    await startController();
    await c.pushgateway!.idle();
    assert.equal((await hourly('stash_backup_session_success'))[0]?.value, 1, 'the newest outcome is back');
  });

  it('deleting a configuration deletes its groups, retried until the Pushgateway confirms it', async () => {
    assert.notDeepEqual(await hourly('stash_backup_session_success'), []);
    // The Pushgateway refuses the deletes for a while (a refusal that is no use retrying at once).
    let refused = 0;
    proxy.decide = (req) => (req.method === 'DELETE' && refused++ < 2 ? { kind: 'status', status: 400, body: 'not now' } : undefined);
    (await c.resources.delete('BackupConfiguration', 'default', 'hourly'));
    await c.pushgateway!.idle();
    assert.ok(refused >= 2, 'the first deletes were refused');
    // The sweep (every 100 ms here) tries again.
    for (let i = 0; i < 100 && (await hourly('stash_backup_session_success')).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    proxy.decide = () => undefined;
    assert.deepEqual(await hourly('stash_backup_session_success'), []);
    assert.notDeepEqual(await nightly('stash_backup_session_success'), [], 'the other configuration keeps its own');
  });
});
