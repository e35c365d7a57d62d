// Repository checks after backups, end to end: a real MariaDB, the real controller and agent.
// A backup's check passes and says so on the session and the Repository; then one byte of a
// pack rots on disk, and the next backup (a check that reads all the data) is still Succeeded,
// its snapshot stored, while the session, the Repository and `sidestash get` show the failed
// check naming the damaged pack, as restic check --read-data does.
import assert from 'node:assert/strict';
import { chmod, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api } from '../cli/api-client.ts';
import type { IntegrityResult } from '../common/protocol.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import type { RepositoryStatus } from '../controller/resources/types.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { restic } from './helpers/restic.ts';
import { REPO_PASSWORD, triggerBackup, waitForSessionEnd } from './helpers/scenario.ts';
import { DB_PASSWORD, DB_USER, createShop } from './helpers/shop-db.ts';
import { runCli, startAgent, startController } from './helpers/stack.ts';
import type { ControllerProc, Proc } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

type SessionWithIntegrity = { metadata: { name: string }; status?: { phase?: string; snapshotId?: string; integrity?: IntegrityResult } };

/** The largest pack (a data pack: tree packs are small), with one byte in its middle flipped. */
async function rotLargestPack(repo: string): Promise<string> {
  let largest: { file: string; size: number } | undefined;
  for (const sub of await readdir(join(repo, 'data'))) {
    for (const name of await readdir(join(repo, 'data', sub))) {
      const file = join(repo, 'data', sub, name);
      const { size } = await stat(file);
      if (!largest || size > largest.size) largest = { file, size };
    }
  }
  assert.ok(largest, 'the repository has packs');
  const bytes = await readFile(largest.file);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0x40;
  await chmod(largest.file, 0o600);
  await writeFile(largest.file, bytes);
  return largest.file.split('/').pop()!;
}

describe('repository integrity checks after backups (real MariaDB, controller and agent)', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let controller: ControllerProc;
  let agent: Proc;
  let repoPath: string;

  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    await createShop(db, 20_000);
    controller = await startController(dir.path);
    agent = startAgent(dir.path, controller, ['default/shop-db']);
    repoPath = join(dir.path, 'repo');
    await api(controller.api, 'POST', '/api/v1/apply', [
      { kind: 'Secret', metadata: { name: 'repo-secret' }, spec: { stringData: { RESTIC_PASSWORD: REPO_PASSWORD } } },
      { kind: 'Secret', metadata: { name: 'db-secret' }, spec: { stringData: { username: DB_USER, password: DB_PASSWORD } } },
      { kind: 'Repository', metadata: { name: 'repo' }, spec: { backend: { local: { path: repoPath }, storageSecretName: 'repo-secret' } } },
      { kind: 'AppBinding', metadata: { name: 'shop-db' }, spec: { clientConfig: { socket: db.socket }, secret: { name: 'db-secret' } } },
      {
        kind: 'BackupConfiguration',
        metadata: { name: 'shop-backup' },
        spec: { schedule: '0 0 1 1 *', repository: { name: 'repo' }, target: { ref: { name: 'shop-db' } }, dumpArgs: ['--databases', 'shop', '--single-transaction'], integrityCheck: { readDataSubset: '100%', readDataInterval: '0s' } },
      },
    ]);
  });
  after(async () => {
    await agent?.stop();
    await controller?.stop();
    await db?.stop();
    await dir?.cleanup();
  });

  const repositoryStatus = async (): Promise<RepositoryStatus | undefined> => (await api<{ status?: RepositoryStatus }>(controller.api, 'GET', '/api/v1/repositories/repo')).status;

  it('a sound repository: the check passes, on the session and the Repository', async () => {
    const s = (await waitForSessionEnd(controller.api, await triggerBackup(controller.api), 120_000)) as SessionWithIntegrity;
    assert.equal(s.status?.phase, 'Succeeded', JSON.stringify(s.status));
    const integrity = s.status?.integrity;
    assert.deepEqual({ ...integrity, checkedAt: undefined }, { ok: true, checkedAt: undefined, readDataSubset: '100%', errors: [] }, JSON.stringify(s.status));
    assert.ok(Date.parse(integrity!.checkedAt) > Date.now() - 300_000);
    const repo = await repositoryStatus();
    assert.deepEqual(repo?.integrity, { ok: true, checkedAt: integrity!.checkedAt, readDataSubset: '100%', session: s.metadata.name });
    assert.ok(repo?.lastReadDataCheckAt, 'the read is recorded for the schedule');
    const listed = await runCli(['get', 'repositories'], controller.cliEnv);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout.split('\n').find((l) => l.startsWith('repo '))!, /^repo\s+ok \(100%\)\s/);
  });

  it('a rotten pack: the next backup is Succeeded and stored, and its check fails on the session, the Repository and in get', async () => {
    const packId = await rotLargestPack(repoPath);
    // The session names carry seconds.
    await new Promise((r) => setTimeout(r, 1100));
    const s = (await waitForSessionEnd(controller.api, await triggerBackup(controller.api), 120_000)) as SessionWithIntegrity;
    assert.equal(s.status?.phase, 'Succeeded', JSON.stringify(s.status));
    const snapshots = await listSnapshots(await Repository.open(new LocalBackend(repoPath), REPO_PASSWORD));
    assert.ok(snapshots.some((x) => x.id === s.status?.snapshotId), 'the snapshot is stored');

    const integrity = s.status?.integrity;
    assert.equal(integrity?.ok, false, JSON.stringify(s.status));
    assert.equal(integrity?.readDataSubset, '100%');
    assert.ok(integrity!.errors.length > 0 && integrity!.errors.length <= 20);
    assert.ok(integrity!.errors.every((e) => e.startsWith(`pack ${packId}: `) && e.length <= 500), integrity!.errors.join('\n'));

    const repo = await repositoryStatus();
    assert.equal(repo?.integrity?.ok, false);
    assert.equal(repo?.integrity?.session, s.metadata.name);
    assert.deepEqual(repo?.integrity?.errors, integrity!.errors);

    const sessions = await runCli(['get', 'backupsessions'], controller.cliEnv);
    const row = sessions.stdout.split('\n').find((l) => l.split(/\s+/)[0] === s.metadata.name);
    assert.ok(row, sessions.stdout);
    assert.match(row, /\bSucceeded\b.*\bFAILED \(100%\).*repository check failed: pack [0-9a-f]{64}: /);
    const repos = await runCli(['get', 'repositories'], controller.cliEnv);
    assert.match(repos.stdout.split('\n').find((l) => l.startsWith('repo '))!, new RegExp(`^repo\\s+FAILED \\(100%\\).*repository check failed: pack ${packId}: `));

    // restic agrees: the damage is real, and only reading the data finds it.
    assert.notEqual((await restic(repoPath, REPO_PASSWORD, ['check', '--read-data'])).code, 0);
    assert.equal((await restic(repoPath, REPO_PASSWORD, ['check'])).code, 0);
  });
});
