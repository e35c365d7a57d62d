// Two targets sharing one repository, each with its own retention, backing up at the same time:
// each keeps its own snapshots, latest never crosses targets, restic check passes; a retention
// blocked by the other target's running backup (its shared lock) is reported on the session,
// leaves everything in place, and is done by the next run.
import assert from 'node:assert/strict';
import { chmod, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBackup } from '../agent/backup-runner.ts';
import type { AgentConfig } from '../agent/config.ts';
import { runRestore } from '../agent/restore-runner.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { createLogger } from '../common/log.ts';
import type { BackupAssignment } from '../common/protocol.ts';
import { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import { testAgentConfig } from './helpers/agent-config.ts';
import { heldLocks } from './helpers/locks.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { restic } from './helpers/restic.ts';
import { waitFor } from './helpers/scenario.ts';
import { DB_PASSWORD, DB_USER, createShop } from './helpers/shop-db.ts';
import { tempDir } from './helpers/tmp.ts';

const log = createLogger({}, { level: 'error' });
const REPO_PASSWORD = 'shared-repository';

describe('two targets sharing one repository', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let config: AgentConfig;
  let n = 0;
  const repoPath = (): string => join(dir.path, 'shared');
  const backup = (target: 'shop-db' | 'crm-db'): BackupAssignment => ({
    kind: 'BackupSession', namespace: 'default', name: `${target}-${++n}`, invoker: `${target}-backup`, target: `default/${target}`, repositoryName: 'shared',
    database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD },
    repository: { location: `local:${repoPath()}`, password: REPO_PASSWORD, credentials: {} },
    dumpArgs: ['--databases', target === 'shop-db' ? 'shop' : 'crm', '--single-transaction', '--skip-dump-date'], snapshotHost: target, filename: 'dumpfile.sql',
    retentionPolicy: { keepLast: 1, prune: true, dryRun: false }, shrinkGuardPercent: 0,
  });
  const hooks = () => ({ signal: new AbortController().signal, log, onProgress: () => {} });
  const snapshots = async () => listSnapshots(await Repository.open(new LocalBackend(repoPath()), REPO_PASSWORD));

  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    await createShop(db, 4000);
    config = testAgentConfig(dir.path);
  });
  after(async () => {
    await db.stop();
    await dir.cleanup();
  });

  it('concurrent backups keep their own snapshots; a retention blocked by the other backup is reported and done by the next run', async () => {
    const shop1 = await runBackup(config, backup('shop-db'), hooks());
    const crm1 = await runBackup(config, backup('crm-db'), hooks());
    // crm-db's next dump stalls until released, holding the repository's shared lock meanwhile.
    const go = join(dir.path, 'go');
    const slow = join(dir.path, 'slow-dump.sh');
    await writeFile(slow, `#!/bin/sh\nwhile [ ! -f ${go} ]; do sleep 0.05; done\nexec mariadb-dump "$@"\n`);
    await chmod(slow, 0o755);
    const crmRunning = runBackup({ ...config, mariadbDumpPath: slow }, backup('crm-db'), hooks());
    try {
      await waitFor('crm-db to hold its lock', 30_000, async () => ((await heldLocks(repoPath())).length > 0 ? true : undefined));
      // shop-db backs up meanwhile: its snapshot is stored, its keepLast 1 cannot run under crm-db's lock.
      const shop2 = await runBackup(config, backup('shop-db'), hooks());
      assert.equal(shop2.phase, 'Succeeded');
      assert.equal(shop2.retention?.pruned, false);
      assert.equal(shop2.retention?.removed, 0);
      assert.match(shop2.retention?.error ?? '', /locked/, 'the blocked retention is reported on the session');
      assert.ok((await snapshots()).some((s) => s.id === shop1.snapshotId), 'nothing was removed');
    } finally {
      await writeFile(go, '');
    }
    const crm2 = await crmRunning;
    assert.equal(crm2.phase, 'Succeeded');
    assert.deepEqual(crm2.retention, { kept: 1, removed: 1, pruned: true }, "crm-db's own retention ran, on its own snapshots only");
    // The next shop-db run does what the blocked one could not.
    const shop3 = await runBackup(config, backup('shop-db'), hooks());
    assert.deepEqual(shop3.retention, { kept: 1, removed: 2, pruned: true });
    const left = (await snapshots()).map((s) => s.id).sort();
    assert.deepEqual(left, [crm2.snapshotId!, shop3.snapshotId!].sort(), 'each target keeps its own last one');
    assert.ok(!left.includes(crm1.snapshotId!));
    // latest never crosses targets.
    for (const [target, want] of [['shop-db', shop3.snapshotId], ['crm-db', crm2.snapshotId]] as const) {
      const r = await runRestore(config, { kind: 'RestoreSession', namespace: 'default', name: `r-${target}`, target: `default/${target}`, repositoryName: 'shared', database: backup(target).database, repository: backup(target).repository, snapshot: 'latest', snapshotHost: target }, hooks());
      assert.equal(r.snapshotId, want, target);
    }
    const chk = await restic(repoPath(), REPO_PASSWORD, ['check', '--read-data']);
    assert.equal(chk.code, 0, chk.stderr + chk.stdout);
    assert.deepEqual(await readdir(join(repoPath(), 'locks')), []);
  });
});
