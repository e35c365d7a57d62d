// Bad input and failures get clear, coded errors and lose nothing.
import assert from 'node:assert/strict';
import { readdir, writeFile, chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { check } from '../common/repository/check.ts';
import { RepositoryLock, removeLocks } from '../common/repository/lock.ts';
import { prune } from '../common/repository/prune.ts';
import { forget } from '../common/repository/forget.ts';
import { Repository } from '../common/repository/repository.ts';
import { findSnapshot, listSnapshots } from '../common/repository/snapshot.ts';
import { createFileReadStream, findSnapshotFile } from '../common/repository/snapshot-reader.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { blockStream, plan } from './helpers/data.ts';
import { restic, sha256Of } from './helpers/restic.ts';
import { tempDir } from './helpers/tmp.ts';

const PASSWORD = 'pw-errors';
const MiB = 1024 * 1024;
const fastKdf = { scrypt: { N: 1024, r: 8, p: 1 } };
const code = (c: string) => (err: unknown) => isSidestashError(err) && err.code === c;

/** Path of a pack holding data (not tree) blobs. */
async function dataPack(repo: Repository, path: string): Promise<string> {
  for (const [packId, blobs] of (await repo.index()).packs()) {
    if (blobs[0]?.type === 'data') return join(path, 'data', packId.slice(0, 2), packId);
  }
  throw new Error('no data pack');
}

describe('repository errors', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.cleanup());

  it('not a repository', async () => {
    await assert.rejects(Repository.open(new LocalBackend(join(dir.path, 'nothing')), PASSWORD), code(ErrorCodes.NOT_A_REPOSITORY));
  });

  it('init refuses an existing repository; wrong password is WRONG_PASSWORD', async () => {
    const path = join(dir.path, 'pw');
    await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    await assert.rejects(Repository.init(new LocalBackend(path), PASSWORD, fastKdf), code(ErrorCodes.REPOSITORY_EXISTS));
    await assert.rejects(Repository.open(new LocalBackend(path), 'not the password'), code(ErrorCodes.WRONG_PASSWORD));
    await Repository.open(new LocalBackend(path), PASSWORD);
  });

  it('a corrupt pack is CORRUPT_PACK on read and an error in check, and restic agrees', async () => {
    const path = join(dir.path, 'corrupt');
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    const res = await writeSnapshot(repo, blockStream(plan('corrupt', 2 * MiB)), { filename: 'dumpfile.sql' });
    const pack = await dataPack(repo, path);
    const bytes = await readFile(pack);
    bytes[100] = bytes[100]! ^ 0xff;
    await chmod(pack, 0o600);
    await writeFile(pack, bytes);
    const reopened = await Repository.open(new LocalBackend(path), PASSWORD);
    const snap = await findSnapshot(reopened, res.snapshotId);
    const read = sha256Of(createFileReadStream(reopened, await findSnapshotFile(reopened, snap)));
    await assert.rejects(read, code(ErrorCodes.CORRUPT_PACK));
    const report = await check(reopened, { readData: true });
    // Exactly the damaged pack is reported, for its hash, and nothing else.
    const packId = pack.split('/').pop()!;
    assert.ok(report.errors.length > 0 && report.errors.every((e) => e.startsWith(`pack ${packId}: `)), report.errors.join('\n'));
    assert.ok(report.errors.includes(`pack ${packId}: content does not match its name`), report.errors.join('\n'));
    assert.equal(report.packsRead, report.packs);
    const r = await restic(path, PASSWORD, ['check', '--read-data']);
    assert.notEqual(r.code, 0);
  });

  it('a missing pack is MISSING_BLOB on read after the index loses it, and check reports it', async () => {
    const path = join(dir.path, 'missing');
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    const res = await writeSnapshot(repo, blockStream(plan('missing', 2 * MiB)), { filename: 'dumpfile.sql' });
    for (const f of await readdir(join(path, 'index'))) await repo.backend.remove({ type: 'index', name: f });
    const reopened = await Repository.open(new LocalBackend(path), PASSWORD);
    await assert.rejects(findSnapshotFile(reopened, await findSnapshot(reopened, res.snapshotId)), code(ErrorCodes.MISSING_BLOB));
    const report = await check(reopened);
    assert.ok(report.errors.some((e) => e.includes('not found in index')), report.errors.join('\n'));
    assert.ok(report.warnings.length > 0);
  });

  it('an exclusive lock refuses other locks (REPOSITORY_LOCKED, retryable); as in restic, a stale lock still refuses until unlock removes it', async () => {
    const path = join(dir.path, 'locked');
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    const lock = await RepositoryLock.acquire(repo, true);
    await assert.rejects(writeSnapshot(repo, Readable.from([Buffer.from('x')]), { filename: 'd.sql' }), (err) => code(ErrorCodes.REPOSITORY_LOCKED)(err) && (err as { retryable: boolean }).retryable);
    await assert.rejects(prune(repo), code(ErrorCodes.REPOSITORY_LOCKED));
    await lock.release();
    // A lock 31 minutes old is stale: it still refuses (restic never ignores a lock), unlock removes it.
    const old = new Date(Date.now() - 31 * 60_000).toISOString();
    await repo.saveJson('locks', { time: old, exclusive: true, hostname: (await import('node:os')).hostname(), username: 'x', pid: 2 ** 22 + 1 });
    await assert.rejects(writeSnapshot(repo, Readable.from([Buffer.from('x')]), { filename: 'd.sql' }), (err) => code(ErrorCodes.REPOSITORY_LOCKED)(err) && (err as { details: { stale: boolean } }).details.stale);
    assert.equal(await removeLocks(repo), 1);
    assert.deepEqual(await readdir(join(path, 'locks')), []);
    await writeSnapshot(repo, Readable.from([Buffer.from('x')]), { filename: 'd.sql' });
    assert.deepEqual(await readdir(join(path, 'locks')), []);
  });

  it('a source that fails mid-stream creates no snapshot, releases its lock, and leaves a valid repository', async () => {
    const path = join(dir.path, 'interrupted');
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    async function* failing(): AsyncGenerator<Buffer> {
      yield* blockStream(plan('interrupted', 40 * MiB));
      throw new Error('mariadb-dump exited with code 2');
    }
    await assert.rejects(writeSnapshot(repo, failing(), { filename: 'dumpfile.sql', packSizeBytes: 4 * MiB }), /exited with code 2/);
    assert.deepEqual(await listSnapshots(repo), []);
    assert.deepEqual(await readdir(join(path, 'locks')), []);
    const r = await restic(path, PASSWORD, ['check', '--read-data']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const pruned = await prune(repo);
    // The failed backup indexed the packs it had stored (for the next one to reuse): prune
    // removes them as unused; one whose upload was cut short would be an orphan.
    assert.ok(pruned.packsRemoved + pruned.orphanedPacksRemoved > 0, JSON.stringify(pruned));
    assert.deepEqual(await readdir(join(path, 'data')).then((d) => Promise.all(d.map((x) => readdir(join(path, 'data', x))))).then((l) => l.flat()), []);
  });

  it('prune interrupted after any step leaves a valid repository; the next prune finishes the job', async () => {
    for (const failAfter of ['repack', 'index', 'remove-index'] as const) {
      const path = join(dir.path, `prune-${failAfter}`);
      const repo = await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
      // Two snapshots sharing most chunks, so forgetting one leaves partly used packs.
      const base = plan('prune', 12 * MiB);
      await writeSnapshot(repo, blockStream(base), { filename: 'dumpfile.sql', packSizeBytes: 4 * MiB, time: new Date('2026-01-01T00:00:00Z') });
      const keepBlocks = [...base.slice(0, 100), ...plan('prune-other', 2 * MiB)];
      const kept = await writeSnapshot(repo, blockStream(keepBlocks), { filename: 'dumpfile.sql', packSizeBytes: 4 * MiB, time: new Date('2026-01-02T00:00:00Z') });
      await forget(repo, { keepLast: 1 });
      await assert.rejects(prune(repo, { afterStep: (s) => { if (s === failAfter) throw new Error(`crash after ${s}`); } }), /crash after/);
      const r = await restic(path, PASSWORD, ['check', '--read-data']);
      assert.equal(r.code, 0, `${failAfter}: ${r.stderr}${r.stdout}`);
      const again = await prune(repo);
      // The interrupted prune left work behind (new packs not yet indexed, or obsolete packs
      // not yet deleted): the next prune deletes it, and a third finds nothing left to do.
      assert.ok(again.packsRemoved > 0, `${failAfter}: ${JSON.stringify(again)}`);
      assert.ok(again.packsKept > 0, `${failAfter}: ${JSON.stringify(again)}`);
      const third = await prune(repo);
      assert.deepEqual({ removed: third.packsRemoved, orphans: third.orphanedPacksRemoved, repacked: third.packsRepacked }, { removed: 0, orphans: 0, repacked: 0 }, failAfter);
      const packDirs = await readdir(join(path, 'data'));
      let packsOnDisk = 0;
      for (const d of packDirs) packsOnDisk += (await readdir(join(path, 'data', d))).length;
      assert.equal(packsOnDisk, third.packsKept, `${failAfter}: every pack on disk is indexed and used`);
      const r2 = await restic(path, PASSWORD, ['check', '--read-data']);
      assert.equal(r2.code, 0, r2.stderr + r2.stdout);
      assert.doesNotMatch(r2.stdout, /not referenced in any index/);
      const fresh = await Repository.open(new LocalBackend(path), PASSWORD);
      const got = await sha256Of(createFileReadStream(fresh, await findSnapshotFile(fresh, await findSnapshot(fresh, kept.snapshotId))));
      assert.equal(got.sha256, (await sha256Of(blockStream(keepBlocks))).sha256);
    }
  });
});
