// Sessions end as documented, end to end through the real controller and agent processes: a
// BackupSession cancelled through the API while mariadb-dump is streaming ends Cancelled with
// SIDESTASH_SESSION_CANCELLED, one whose configuration's `timeout` passes mid-dump fails with
// SIDESTASH_SESSION_TIMEOUT, and a RestoreSession cancelled while the client is reading ends
// Cancelled with SIDESTASH_SESSION_CANCELLED. Each time: no snapshot, no restic lock, no process left.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { api } from '../cli/api-client.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { isFinalPhase } from '../common/protocol.ts';
import { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import { targetTags } from '../common/repository/snapshot-selector.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { restic } from './helpers/restic.ts';
import { REPO_PASSWORD, applyScenario, assertNoProcessesUnder, getSession, processesUnder, slowDump, slowRestoreClient, triggerBackup, waitFor, waitForSessionEnd } from './helpers/scenario.ts';
import { DB_USER, createShop } from './helpers/shop-db.ts';
import { startAgent, startController } from './helpers/stack.ts';
import type { ControllerProc, Proc } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

describe('sessions end as documented (controller and agent processes)', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let controller: ControllerProc;
  let agent: Proc;
  let repo: string;
  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    await createShop(db, 20_000);
    repo = join(dir.path, 'repo');
    controller = await startController(dir.path);
    await applyScenario(controller.api, { db, repository: { local: { path: repo } } });
    // The dump stalls for up to 10 minutes after its first bytes: only a cancel or the timeout ends it.
    // A restore's client likewise stalls after its first 300 kB.
    agent = startAgent(dir.path, controller, ['default/shop-db'], { SIDESTASH_MARIADB_DUMP: await slowDump(dir.path, 600), SIDESTASH_MARIADB: await slowRestoreClient(dir.path, 600) });
  });
  after(async () => {
    await agent?.stop();
    await controller?.stop();
    await db?.stop();
    if (dir) {
      const left = await processesUnder(dir.path);
      await dir.cleanup();
      assert.deepEqual(left, [], 'no process outlives the tests');
    }
  });

  async function snapshotCount(): Promise<number> {
    return (await listSnapshots(await Repository.open(new LocalBackend(repo), REPO_PASSWORD))).length;
  }

  async function assertNothingLeft(): Promise<void> {
    assert.equal(await snapshotCount(), 0, 'no snapshot');
    const locks = await restic(repo, REPO_PASSWORD, ['list', 'locks', '--no-lock']);
    assert.equal(locks.code, 0, locks.stderr);
    assert.equal(locks.stdout.trim(), '', 'no lock left in the repository');
    await assertNoProcessesUnder(dir.path);
  }

  async function startStalledBackup(): Promise<string> {
    const name = await triggerBackup(controller.api);
    await waitFor(`session ${name} to be dumping`, 60_000, async () => ((await getSession(controller.api, name)).status?.progress?.bytesDumped ?? 0) > 0 || undefined);
    // The dump is under way: the script and mariadb-dump's option file are there to be cleaned up.
    assert.ok((await processesUnder(dir.path)).some((p) => p.includes('slow-dump.sh')), 'the slow dump is running');
    return name;
  }

  it('a BackupSession cancelled through the API mid-dump ends Cancelled (SIDESTASH_SESSION_CANCELLED) and leaves nothing behind', async () => {
    const name = await startStalledBackup();
    const requested = await api<{ status: { phase: string; cancelRequested?: boolean } }>(controller.api, 'POST', `/api/v1/backupsessions/${name}/cancel`);
    assert.equal(requested.status.phase, 'Running', 'a running session stops when its agent hears of the cancel');
    assert.equal(requested.status.cancelRequested, true);
    const ended = await waitForSessionEnd(controller.api, name, 60_000);
    assert.equal(ended.status?.phase, 'Cancelled');
    assert.equal(ended.status?.error?.code, 'SIDESTASH_SESSION_CANCELLED', JSON.stringify(ended.status));
    assert.equal(ended.status?.snapshotId, undefined);
    await assertNothingLeft();
  });

  it('a BackupSession past its configuration\'s timeout fails with SIDESTASH_SESSION_TIMEOUT and leaves nothing behind', async () => {
    await applyScenario(controller.api, { db, repository: { local: { path: repo } }, timeout: '3s' });
    const name = await startStalledBackup();
    const ended = await waitForSessionEnd(controller.api, name, 60_000);
    assert.equal(ended.status?.phase, 'Failed');
    assert.equal(ended.status?.error?.code, 'SIDESTASH_SESSION_TIMEOUT', JSON.stringify(ended.status));
    assert.equal(ended.status?.snapshotId, undefined);
    // Stopped by the agent at the deadline, not given up on by the controller after the grace period.
    const durationSeconds = (ended.status as { durationSeconds?: number }).durationSeconds ?? Infinity;
    assert.ok(durationSeconds < 30, `ended ${durationSeconds} s after it started`);
    await assertNothingLeft();
  });

  it('a RestoreSession cancelled through the API mid-stream ends Cancelled (SIDESTASH_SESSION_CANCELLED) and leaves no connection or lock behind', async () => {
    // A real dump of the database, stored as one of the target's snapshots.
    const { stdout: dump } = await promisify(execFile)('mariadb-dump', ['--no-defaults', '-uroot', `--socket=${db.socket}`, '--all-databases', '--single-transaction'], { maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' });
    assert.ok(dump.length > 1_000_000, `a dump larger than the loader queues before it waits (${dump.length} bytes)`);
    const repository = await Repository.open(new LocalBackend(repo), REPO_PASSWORD);
    const { snapshotId } = await writeSnapshot(repository, (async function* () { yield dump; })(), { filename: 'dumpfile.sql', hostname: 'shop-db', tags: ['session=seeded', ...targetTags({ namespace: 'default', name: 'shop-db' })] });
    // The restore stalls on the server: another session holds the global read lock, so the
    // agent's statements wait there (the agent sends them itself: there is no client to slow).
    const holder = spawn('mariadb', ['--no-defaults', '-uroot', `--socket=${db.socket}`, '-e', 'FLUSH TABLES WITH READ LOCK; SELECT SLEEP(600)'], { stdio: 'ignore' });
    const agentConnections = async () => Number((await db.sql(`SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '${DB_USER}'`)).trim());
    try {
      await waitFor('the read lock to be held', 30_000, async () => ((await db.sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(600)'")).trim() === '1' ? true : undefined));
      await api(controller.api, 'POST', '/api/v1/apply', { apiVersion: 'sidestash.io/v1', kind: 'RestoreSession', metadata: { name: 'cancelled-restore' }, spec: { repository: { name: 'repo' }, target: { ref: { name: 'shop-db' } }, snapshot: snapshotId } });
      const path = '/api/v1/restoresessions/cancelled-restore';
      await waitFor('the restore to be streaming', 60_000, async () => {
        const s = await api<{ status?: { phase?: string; progress?: { bytesDumped?: number } } }>(controller.api, 'GET', path);
        if (s.status?.phase !== 'Running' && s.status?.phase !== 'Pending') throw new Error(`restore ended early: ${JSON.stringify(s.status)}`);
        return (s.status?.progress?.bytesDumped ?? 0) > 0 || undefined;
      });
      await waitFor("the restore's statements to wait on the server", 30_000, async () => ((await db.sql(`SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '${DB_USER}' AND STATE LIKE 'Waiting%lock%'`)).trim() !== '0' ? true : undefined));
      const requested = await api<{ status: { phase: string; cancelRequested?: boolean } }>(controller.api, 'POST', `${path}/cancel`);
      assert.equal(requested.status.cancelRequested, true);
      const ended = await waitFor('the restore to end', 60_000, async () => {
        const s = await api<{ status?: { phase?: string; error?: { code: string } } }>(controller.api, 'GET', path);
        return isFinalPhase(s.status?.phase) ? s : undefined;
      });
      assert.equal(ended.status?.phase, 'Cancelled');
      assert.equal(ended.status?.error?.code, 'SIDESTASH_SESSION_CANCELLED', JSON.stringify(ended.status));
      // Its statements are KILLed on the server, not left waiting for the lock.
      await waitFor("the restore's connections to be gone from the server", 30_000, async () => ((await agentConnections()) === 0 ? true : undefined));
    } finally {
      holder.kill('SIGKILL');
    }
    const locks = await restic(repo, REPO_PASSWORD, ['list', 'locks', '--no-lock']);
    assert.equal(locks.code, 0, locks.stderr);
    assert.equal(locks.stdout.trim(), '', 'no lock left in the repository');
    await assertNoProcessesUnder(dir.path);
  });
});
