// Format version 1 repositories (restic < 0.14, or `restic init --repository-version 1`):
// nothing is compressed there. We read and write them, and the real restic agrees both ways.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { check } from '../common/repository/check.ts';
import { forget } from '../common/repository/forget.ts';
import { decrypt } from '../common/repository/crypto.ts';
import { prune } from '../common/repository/prune.ts';
import { Repository } from '../common/repository/repository.ts';
import { findSnapshot, listSnapshots } from '../common/repository/snapshot.ts';
import { createFileReadStream, findSnapshotFile } from '../common/repository/snapshot-reader.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { blockStream, mutate, plan } from './helpers/data.ts';
import { restic, resticDumpSha256, sha256Of } from './helpers/restic.ts';
import { tempDir } from './helpers/tmp.ts';

const PASSWORD = 'v1 repository password';
const MiB = 1024 * 1024;

describe('format version 1 repositories', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let path: string;
  before(async () => {
    dir = await tempDir();
    path = join(dir.path, 'v1');
    const init = await restic(path, PASSWORD, ['init', '--repository-version', '1']);
    assert.equal(init.code, 0, init.stderr);
  });
  after(() => dir.cleanup());

  it('writes uncompressed snapshots restic checks clean and dumps byte-exact', async () => {
    const repo = await Repository.open(new LocalBackend(path), PASSWORD);
    assert.equal(repo.config.version, 1);
    assert.equal(repo.compression, false);
    const blocks = plan('v1-first', 24 * MiB + 777);
    const res = await writeSnapshot(repo, blockStream(blocks, 24 * MiB + 777), { filename: 'dumpfile.sql', hostname: 'shop-db' });
    // Version 1 has no compressed blobs and no compressed JSON: every snapshot and index file
    // decrypts to plain JSON (a version 2 file starts with the byte 0x02 instead).
    for (const type of ['snapshots', 'index'] as const) {
      for (const name of await readdir(join(path, type))) {
        const plain = decrypt(repo.key, await readFile(join(path, type, name)));
        assert.ok(plain[0] === 0x7b || plain[0] === 0x5b, `${type}/${name} is plain JSON`);
        JSON.parse(plain.toString('utf8'));
      }
    }
    const chk = await restic(path, PASSWORD, ['check', '--read-data']);
    assert.equal(chk.code, 0, chk.stderr + chk.stdout);
    assert.match(chk.stdout, /no errors were found/);
    const dump = await resticDumpSha256(path, PASSWORD, res.snapshotId, '/dumpfile.sql');
    assert.equal(dump.code, 0, dump.stderr);
    assert.equal(dump.sha256, (await sha256Of(blockStream(blocks, 24 * MiB + 777))).sha256);
    // restic itself never upgraded the repository behind our back.
    assert.equal((await Repository.open(new LocalBackend(path), PASSWORD)).config.version, 1);
  });

  it('reads what restic 0.14 adds to it, forgets and prunes, and restic still checks it clean', async () => {
    const blocks = mutate(plan('v1-first', 24 * MiB + 777), 0.1);
    const backup = await restic(path, PASSWORD, ['backup', '--stdin', '--stdin-filename', 'dumpfile.sql', '--host', 'shop-db'], blockStream(blocks));
    assert.equal(backup.code, 0, backup.stderr);
    const repo = await Repository.open(new LocalBackend(path), PASSWORD);
    const snaps = await listSnapshots(repo);
    assert.equal(snaps.length, 2);
    const latest = await findSnapshot(repo, 'latest', { hostname: 'shop-db' });
    const got = await sha256Of(createFileReadStream(repo, await findSnapshotFile(repo, latest)));
    assert.equal(got.sha256, (await sha256Of(blockStream(blocks))).sha256);
    const decision = await forget(repo, { keepLast: 1 });
    assert.deepEqual(decision.remove.map((s) => s.id), snaps.filter((s) => s.id !== latest.id).map((s) => s.id));
    const pruned = await prune(repo);
    assert.ok(pruned.packsRemoved + pruned.packsRepacked > 0, JSON.stringify(pruned));
    assert.deepEqual((await check(repo, { readData: true })).errors, []);
    const chk = await restic(path, PASSWORD, ['check', '--read-data']);
    assert.equal(chk.code, 0, chk.stderr + chk.stdout);
    assert.equal((await Repository.open(new LocalBackend(path), PASSWORD)).config.version, 1);
  });
});
