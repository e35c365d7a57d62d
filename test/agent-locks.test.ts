// The agent's runners and repository locks, against a real MariaDB and the real restic 0.14:
// the cleanup before each backup removes only locks stale by the rule of lock-staleness.ts
// (never a fresh lock of a neighbouring container whose PID is not visible here), and a
// restore holds a shared lock that restic's prune respects.
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBackup } from '../agent/backup-runner.ts';
import type { AgentConfig } from '../agent/config.ts';
import { runRestore } from '../agent/restore-runner.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { createLogger } from '../common/log.ts';
import type { BackupAssignment, RestoreAssignment } from '../common/protocol.ts';
import { Repository } from '../common/repository/repository.ts';
import { heldLocks, lockEntries } from './helpers/locks.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { restic } from './helpers/restic.ts';
import { waitFor } from './helpers/scenario.ts';
import { DB_PASSWORD, DB_USER, checksums, createShop } from './helpers/shop-db.ts';
import { testAgentConfig } from './helpers/agent-config.ts';
import { tempDir } from './helpers/tmp.ts';

const log = createLogger({}, { level: 'error' });
const REPO_PASSWORD = 'agent-locks-repository';
const DEAD_PID = 2 ** 22 + 1; // above Linux's pid_max: not visible here
const fastKdf = { scrypt: { N: 1024, r: 8, p: 1 } };

describe('agent runners and repository locks', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let config: AgentConfig;
  const repoAccess = (repo: string) => ({ location: `local:${join(dir.path, repo)}`, password: REPO_PASSWORD, credentials: {} });
  const backup = (repo: string, over: Partial<BackupAssignment> = {}): BackupAssignment => ({
    kind: 'BackupSession', namespace: 'default', name: `s-${Math.random().toString(36).slice(2, 8)}`, invoker: 'cfg', target: 'default/db', repositoryName: repo,
    database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD },
    repository: repoAccess(repo), dumpArgs: ['--databases', 'shop', 'crm', '--single-transaction'], snapshotHost: 'db', filename: 'dumpfile.sql', ...over,
  });
  const hooks = () => ({ signal: new AbortController().signal, log, onProgress: () => {} });
  const lockFiles = (repo: string) => lockEntries(join(dir.path, repo));

  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    // Enough rows that a restore's stream outgrows the pipe buffers and blocks on a waiting client.
    await createShop(db, 40_000);
    config = testAgentConfig(dir.path, { progressIntervalMs: 50 });
  });
  after(async () => {
    await db.stop();
    await dir.cleanup();
  });

  it('the cleanup before a backup removes a 31-minute-old lock but keeps a fresh one of this host name whose PID is not visible here', async () => {
    const repo = await Repository.init(new LocalBackend(join(dir.path, 'cleanup')), REPO_PASSWORD, fastKdf);
    const old = new Date(Date.now() - 31 * 60_000).toISOString();
    await repo.saveJson('locks', { time: old, exclusive: true, hostname: hostname(), username: 'killed', pid: DEAD_PID });
    // restic or sidestash in the database container of the same pod: same host name, another PID namespace.
    const neighbour = await repo.saveJson('locks', { time: new Date().toISOString(), exclusive: false, hostname: hostname(), username: 'mysql', pid: DEAD_PID });
    const r = await runBackup(config, backup('cleanup', { retentionPolicy: { keepLast: 1, prune: true, dryRun: false } }), hooks());
    assert.equal(r.phase, 'Succeeded', JSON.stringify(r));
    // The neighbour's shared lock is live: retention (an exclusive lock) waits for another run.
    assert.match(r.retention?.error ?? '', /locked/, JSON.stringify(r.retention));
    assert.deepEqual(await lockFiles('cleanup'), [neighbour]);
  });

  it('a restore holds a shared lock from the start until its client has applied everything: restic prune is refused until it ends', async () => {
    await runBackup(config, backup('restore-lock'), hooks());
    assert.deepEqual(await lockFiles('restore-lock'), [], 'the backup released its lock before it returned');
    const before = await checksums(db);
    // A mariadb client that, for the restore itself (not the `-e` probe), waits for a go-ahead.
    const go = join(dir.path, 'go');
    const client = join(dir.path, 'slow-mariadb.sh');
    await writeFile(client, `#!/bin/sh\ncase " $* " in *" -e "*) exec mariadb "$@";; esac\nwhile [ ! -f ${go} ]; do sleep 0.05; done\nexec mariadb "$@"\n`);
    await chmod(client, 0o755);
    const a: RestoreAssignment = { kind: 'RestoreSession', namespace: 'default', name: 'r', target: 'default/db', repositoryName: 'restore-lock', database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD }, repository: repoAccess('restore-lock'), snapshot: 'latest', snapshotHost: 'db' };
    const restoring = runRestore({ ...config, mariadbPath: client }, a, hooks());
    // A restore that ends (or fails) before its lock is seen says so, with its own error.
    const endedEarly = restoring.then(
      (r) => Promise.reject(new Error(`the restore ended (${r.phase}) before its lock was seen`)),
      (err: unknown) => Promise.reject(err),
    );
    endedEarly.catch(() => {});
    try {
      await Promise.race([waitFor('the restore to hold its lock', 60_000, async () => ((await heldLocks(join(dir.path, 'restore-lock'))).length > 0 ? true : undefined)), endedEarly]);
      // The client has not read a byte yet, while a few 1 MiB chunks fill the pipeline's buffers
      // and may hold the whole (small) snapshot: the lock stays until the restore ends, as restic's.
      const prune = await restic(join(dir.path, 'restore-lock'), REPO_PASSWORD, ['prune']);
      assert.notEqual(prune.code, 0, prune.stdout);
      assert.match(prune.stderr, /locked/);
    } finally {
      await writeFile(go, '');
    }
    const r = await restoring;
    assert.equal(r.phase, 'Succeeded');
    assert.equal(await checksums(db), before);
    assert.deepEqual(await lockFiles('restore-lock'), []);
  });
});
