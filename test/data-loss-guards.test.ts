// No silent data loss, against a real MariaDB and the agent's runners: snapshots are grouped by
// namespace and target (two namespaces with an AppBinding "db" share one repository), legacy
// snapshots survive and stay restorable by id, retention never removes the session's own
// snapshot, and a dump far smaller than the previous one is stored, flagged, and spared retention.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBackup } from '../agent/backup-runner.ts';
import type { AgentConfig } from '../agent/config.ts';
import { runRestore } from '../agent/restore-runner.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import type { BackupAssignment, RestoreAssignment } from '../common/protocol.ts';
import { Repository } from '../common/repository/repository.ts';
import { targetTags } from '../common/repository/snapshot-selector.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { restic } from './helpers/restic.ts';
import { DB_PASSWORD, DB_USER, createShop } from './helpers/shop-db.ts';
import { testAgentConfig } from './helpers/agent-config.ts';
import { tempDir } from './helpers/tmp.ts';
import { api } from '../cli/api-client.ts';
import { triggerBackup, waitForSessionEnd } from './helpers/scenario.ts';
import { Agent as UndiciAgent, fetch as undiciFetch } from 'undici';
import { runCli, startAgent, startController } from './helpers/stack.ts';

const log = createLogger({}, { level: 'error' });
const REPO_PASSWORD = 'data-loss-guards';
const DUMP_ARGS = ['--databases', 'crm', '--single-transaction', '--skip-dump-date'];

describe('no silent data loss (real MariaDB)', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let config: AgentConfig;
  let n = 0;
  const location = (repo: string): string => `local:${join(dir.path, repo)}`;
  const backup = (repo: string, namespace: string, over: Partial<BackupAssignment> = {}): BackupAssignment => ({
    kind: 'BackupSession', namespace, name: `cfg-${++n}`, invoker: 'cfg', target: `${namespace}/db`, repositoryName: repo,
    database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD },
    repository: { location: location(repo), password: REPO_PASSWORD, credentials: {} },
    dumpArgs: DUMP_ARGS, snapshotHost: 'db', filename: 'dumpfile.sql', retentionPolicy: { keepLast: 1, prune: true, dryRun: false }, ...over,
  });
  const restore = (repo: string, namespace: string, snapshot = 'latest'): RestoreAssignment => ({
    kind: 'RestoreSession', namespace, name: `r-${++n}`, target: `${namespace}/db`, repositoryName: repo,
    database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD },
    repository: { location: location(repo), password: REPO_PASSWORD, credentials: {} }, snapshot, snapshotHost: 'db',
  });
  const hooks = () => ({ signal: new AbortController().signal, log, onProgress: () => {} });
  const open = async (repo: string): Promise<Repository> => Repository.open(new LocalBackend(join(dir.path, repo)), REPO_PASSWORD);
  const ids = async (repo: string): Promise<string[]> => (await listSnapshots(await open(repo))).map((s) => s.id).sort();

  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    await createShop(db, 40_000);
    config = testAgentConfig(dir.path, { targets: [] });
  });
  after(async () => {
    await db.stop();
    await dir.cleanup();
  });

  it('two namespaces with an AppBinding of the same name share a repository without forgetting or restoring each other', async () => {
    // A snapshot written before namespaces were recorded: hostname db, tags invoker= and session= only.
    const legacyRepo = await Repository.init(new LocalBackend(join(dir.path, 'shared')), REPO_PASSWORD);
    const sql = 'CREATE DATABASE IF NOT EXISTS legacy_restored;\n-- Dump completed\n';
    const legacy = await writeSnapshot(legacyRepo, Readable.from([Buffer.from(sql)]), { filename: 'dumpfile.sql', hostname: 'db', tags: ['invoker=cfg', 'session=cfg-old'], time: new Date('2026-01-01T00:00:00Z') });

    const a1 = await runBackup(config, backup('shared', 'team-a'), hooks());
    const b1 = await runBackup(config, backup('shared', 'team-b'), hooks());
    const a2 = await runBackup(config, backup('shared', 'team-a'), hooks());
    assert.deepEqual(a2.retention, { kept: 1, removed: 1, pruned: true }, 'team-a forgets only its own older snapshot');
    assert.deepEqual(await ids('shared'), [legacy.snapshotId, b1.snapshotId!, a2.snapshotId!].sort());
    const b2 = await runBackup(config, backup('shared', 'team-b'), hooks());
    assert.deepEqual(b2.retention, { kept: 1, removed: 1, pruned: true });
    assert.deepEqual(await ids('shared'), [legacy.snapshotId, a2.snapshotId!, b2.snapshotId!].sort(), 'legacy snapshot never forgotten');
    assert.notEqual(a1.snapshotId, a2.snapshotId);

    const snap = (await listSnapshots(await open('shared'))).find((s) => s.id === a2.snapshotId)!;
    assert.equal(snap.hostname, 'db', 'the hostname stays Stash-compatible');
    assert.deepEqual(snap.tags, ['invoker=cfg', `session=cfg-3`, ...targetTags({ namespace: 'team-a', name: 'db' })]);

    // b2 is the newest snapshot of hostname "db"; team-a's latest is still its own.
    assert.equal((await runRestore(config, restore('shared', 'team-a'), hooks())).snapshotId, a2.snapshotId);
    assert.equal((await runRestore(config, restore('shared', 'team-b'), hooks())).snapshotId, b2.snapshotId);
    // A namespace without snapshots of its own never gets another's, nor the legacy one, as latest...
    await assert.rejects(runRestore(config, restore('shared', 'team-c'), hooks()), (err) =>
      isSidestashError(err, ErrorCodes.SNAPSHOT_NOT_FOUND) && err.message.includes(legacy.snapshotId.slice(0, 8)) && /restore one by id/.test(err.message));
    // ...but the legacy snapshot is restored by id.
    const byId = await runRestore(config, restore('shared', 'team-c', legacy.snapshotId.slice(0, 10)), hooks());
    assert.equal(byId.snapshotId, legacy.snapshotId);
    assert.match(await db.sql('SHOW DATABASES LIKE "legacy_restored"'), /legacy_restored/);
    const chk = await restic(join(dir.path, 'shared'), REPO_PASSWORD, ['check']);
    assert.equal(chk.code, 0, chk.stderr + chk.stdout);
  });

  it("two configurations of one target (full daily, schema hourly) keep each other's snapshots, and latest refuses to guess between them", async () => {
    const { retentionPolicy: _none, ...fullDaily } = backup('two-configs', 'default', { invoker: 'full' });
    const full = await runBackup(config, fullDaily, hooks());
    const schemaArgs = ['--databases', 'crm', '--no-data', '--skip-dump-date'];
    for (let i = 0; i < 3; i++) {
      const r = await runBackup(config, backup('two-configs', 'default', { invoker: 'schema', dumpArgs: schemaArgs, shrinkGuardPercent: 0 }), hooks());
      assert.equal(r.retention?.removed, i === 0 ? 0 : 1, 'schema keeps its last one');
    }
    const left = await listSnapshots(await open('two-configs'));
    assert.ok(left.some((x) => x.id === full.snapshotId), "the schema configuration's keepLast 1 never removes the full dump");
    assert.equal(left.length, 2);
    // latest would have been the schema-only dump, whose DROP TABLE lines empty every table.
    await assert.rejects(runRestore(config, restore('two-configs', 'default'), hooks()), (err) => isSidestashError(err, ErrorCodes.SNAPSHOT_NOT_FOUND) && /"latest" is ambiguous.*full: /.test(err.message));
    const byId = await runRestore(config, restore('two-configs', 'default', full.snapshotId!.slice(0, 12)), hooks());
    assert.equal(byId.snapshotId, full.snapshotId);
  });

  it('retention never removes the snapshot the session just wrote', async () => {
    const repo = await Repository.init(new LocalBackend(join(dir.path, 'skew')), REPO_PASSWORD);
    // Written by a writer whose clock runs a day ahead: keep-last 1 alone would keep it and drop the new one.
    const ahead = await writeSnapshot(repo, Readable.from([Buffer.from('-- ahead\n')]), {
      filename: 'dumpfile.sql', hostname: 'db', tags: ['invoker=cfg', 'session=cfg-ahead', ...targetTags({ namespace: 'team-a', name: 'db' })], time: new Date(Date.now() + 86_400_000),
    });
    const r = await runBackup(config, backup('skew', 'team-a'), hooks());
    assert.equal(r.phase, 'Succeeded');
    assert.deepEqual(await ids('skew'), [ahead.snapshotId, r.snapshotId!].sort());
    assert.deepEqual(r.retention, { kept: 2, removed: 0, pruned: false });
  });

  it('a dump far smaller than the previous one is stored and flagged, and retention is skipped', async () => {
    await db.sql('CREATE DATABASE ledger; CREATE TABLE ledger.entries (id INT PRIMARY KEY, memo VARCHAR(200)) ENGINE=InnoDB');
    await db.sql("INSERT INTO ledger.entries SELECT seq, CONCAT('entry ', seq, ' ', REPEAT('x', 100)) FROM seq_1_to_20000", 'ledger');
    const dumpArgs = ['--databases', 'ledger', '--single-transaction', '--skip-dump-date'];
    const first = await runBackup(config, backup('shrink', 'team-a', { dumpArgs }), hooks());
    assert.equal(first.suspiciousShrink, undefined);
    await db.sql('DELETE FROM ledger.entries WHERE id > 2000');
    const second = await runBackup(config, backup('shrink', 'team-a', { dumpArgs }), hooks());
    assert.equal(second.phase, 'Succeeded');
    assert.ok(second.suspiciousShrink, 'flagged');
    assert.equal(second.suspiciousShrink.previousSnapshotId, first.snapshotId);
    assert.equal(second.suspiciousShrink.previousBytes, first.bytesRead);
    assert.equal(second.suspiciousShrink.bytes, second.bytesRead);
    assert.equal(second.suspiciousShrink.thresholdPercent, 50);
    assert.ok(second.suspiciousShrink.percent < 50, JSON.stringify(second.suspiciousShrink));
    assert.equal(second.retention, undefined, 'retention skipped');
    assert.deepEqual(await ids('shrink'), [first.snapshotId!, second.snapshotId!].sort(), 'stored, and the larger backup kept');
    const flagged = (await listSnapshots(await open('shrink'))).find((x) => x.id === second.snapshotId)!;
    assert.ok(flagged.tags?.includes('sidestash.io/suspicious-shrink'), 'the flagged snapshot carries the mark');
    // Sticky: the next equally small dump is compared with the last unflagged one, so it is
    // flagged too and retention (keepLast 1) still does not remove the large backup.
    const again = await runBackup(config, backup('shrink', 'team-a', { dumpArgs }), hooks());
    assert.equal(again.suspiciousShrink?.previousSnapshotId, first.snapshotId, 'compared with the last unflagged dump');
    assert.equal(again.retention, undefined);
    assert.ok((await ids('shrink')).includes(first.snapshotId!), 'the large backup is still there');
    // Accepted by one run with the guard off (shrinkGuardPercent 0): stored unmarked, it is the
    // new baseline, and the next run of the same size is not flagged.
    await db.sql('DELETE FROM ledger.entries WHERE id > 200');
    const accepted = await runBackup(config, backup('shrink', 'team-a', { dumpArgs, shrinkGuardPercent: 0, retentionPolicy: { keepLast: 2, prune: false, dryRun: true } }), hooks());
    assert.equal(accepted.suspiciousShrink, undefined);
    assert.ok(accepted.retention);
    const after = await runBackup(config, backup('shrink', 'team-a', { dumpArgs, retentionPolicy: { keepLast: 10, prune: false, dryRun: true } }), hooks());
    assert.equal(after.suspiciousShrink, undefined, 'compared with the accepted dump');
    assert.ok(after.retention);
  });

  it('end to end through the controller and the agent: the flagged session says so, on /metrics and in the CLI', async () => {
    const controller = await startController(dir.path);
    const agent = startAgent(dir.path, controller, ['default/shop-db']);
    try {
      const repo = join(dir.path, 'e2e-repo');
      await api(controller.api, 'POST', '/api/v1/apply', [
        { kind: 'Secret', metadata: { name: 'repo-secret' }, spec: { stringData: { RESTIC_PASSWORD: REPO_PASSWORD } } },
        { kind: 'Secret', metadata: { name: 'db-secret' }, spec: { stringData: { username: DB_USER, password: DB_PASSWORD } } },
        { kind: 'Repository', metadata: { name: 'repo' }, spec: { backend: { local: { path: repo }, storageSecretName: 'repo-secret' } } },
        { kind: 'AppBinding', metadata: { name: 'shop-db' }, spec: { clientConfig: { socket: db.socket }, secret: { name: 'db-secret' } } },
        { kind: 'BackupConfiguration', metadata: { name: 'shop-backup' }, spec: { schedule: '0 0 1 1 *', repository: { name: 'repo' }, target: { ref: { name: 'shop-db' } }, dumpArgs: ['--all-databases', '--ignore-database=mysql', '--single-transaction'], retentionPolicy: { keepLast: 1, prune: true } } },
      ]);
      const first = await waitForSessionEnd(controller.api, await triggerBackup(controller.api), 120_000);
      assert.equal(first.status?.phase, 'Succeeded', JSON.stringify(first.status));
      await db.sql('DELETE FROM shop.orders WHERE id > 2000; DELETE FROM shop.customers WHERE id > 500');
      await new Promise((r) => setTimeout(r, 1100)); // session names carry seconds
      const second = await waitForSessionEnd(controller.api, await triggerBackup(controller.api), 120_000);
      const st = second.status as { phase?: string; snapshotId?: string; suspiciousShrink?: { previousSnapshotId: string; percent: number }; retention?: unknown };
      assert.equal(st.phase, 'Succeeded', JSON.stringify(st));
      assert.equal(st.suspiciousShrink?.previousSnapshotId, first.status?.snapshotId);
      assert.ok(st.suspiciousShrink!.percent < 50, JSON.stringify(st.suspiciousShrink));
      assert.equal(st.retention, undefined, 'retention skipped');
      const snaps = (await listSnapshots(await Repository.open(new LocalBackend(repo), REPO_PASSWORD))).map((s) => s.id).sort();
      assert.deepEqual(snaps, [first.status!.snapshotId!, st.snapshotId!].sort(), 'stored, and the previous backup kept');
      const metrics = await (await undiciFetch(`${controller.url}/metrics`, { dispatcher: new UndiciAgent({ connect: { ca: controller.api.ca! } }) })).text();
      assert.match(metrics, /sidestash_backup_suspicious_shrink\{namespace="default",configuration="shop-backup",target="shop-db"\} 1/);
      const listed = await runCli(['get', 'backupsessions'], controller.cliEnv);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /suspicious shrink: the dump is [\d.]+% of the previous one/);
    } finally {
      await agent.stop();
      await controller.stop();
    }
  });
});
