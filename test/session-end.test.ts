// Sessions end as documented, end to end through the real controller and agent processes: a
// BackupSession cancelled through the API while mariadb-dump is streaming fails with
// SIDESTASH_SESSION_CANCELLED, and one whose configuration's `timeout` passes mid-dump fails
// with SIDESTASH_SESSION_TIMEOUT. Either way: no snapshot, no restic lock, no process left.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api } from '../cli/api-client.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { restic } from './helpers/restic.ts';
import { REPO_PASSWORD, applyScenario, assertNoProcessesUnder, getSession, processesUnder, slowDump, triggerBackup, waitFor, waitForSessionEnd } from './helpers/scenario.ts';
import { createShop } from './helpers/shop-db.ts';
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
    agent = startAgent(dir.path, controller, ['default/shop-db'], { SIDESTASH_MARIADB_DUMP: await slowDump(dir.path, 600) });
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

  it('a BackupSession cancelled through the API mid-dump fails with SIDESTASH_SESSION_CANCELLED and leaves nothing behind', async () => {
    const name = await startStalledBackup();
    const requested = await api<{ status: { phase: string; cancelRequested?: boolean } }>(controller.api, 'POST', `/api/v1/backupsessions/${name}/cancel`);
    assert.equal(requested.status.phase, 'Running', 'a running session stops when its agent hears of the cancel');
    assert.equal(requested.status.cancelRequested, true);
    const ended = await waitForSessionEnd(controller.api, name, 60_000);
    assert.equal(ended.status?.phase, 'Failed');
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
});
