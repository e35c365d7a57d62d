// The appendable archive file writer on a local repository, checked by the real restic: a file
// of many chunks grown over flushes and a resume dumps to exactly its bytes; each flush leaves one
// snapshot of the file; a crash between a save and the removal it allows leaves two, and the
// next writer removes the older; a resume refuses a snapshot that is not the file's; no lock is
// held between flush intervals; `restic check --read-data` passes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { Repository } from '../common/repository/repository.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { ArchiveFileWriter } from '../common/binlog/archive-file-writer.ts';
import { tempDir } from './helpers/tmp.ts';
import { restic } from './helpers/restic.ts';
import { resticDumpBytes } from './helpers/binlog-archive.ts';

const PASSWORD = 'correct horse battery staple';

describe('archive file writer', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let repoPath: string;
  let repo: Repository;
  before(async () => {
    dir = await tempDir();
    repoPath = join(dir.path, 'repo');
    repo = await Repository.init(new LocalBackend(repoPath), PASSWORD, { scrypt: { N: 1024, r: 8, p: 1 } });
  });
  after(() => dir.cleanup());

  const snapshotsOf = async (file: string): Promise<string[]> => {
    const out: string[] = [];
    for (const id of await repo.listIds('snapshots')) {
      const s = (await repo.loadJson('snapshots', id)) as { paths: string[] };
      if (s.paths[0] === `/${file}`) out.push(id);
    }
    return out;
  };
  const append = async (w: ArchiveFileWriter, bytes: Buffer): Promise<void> => {
    for (let i = 0; i < bytes.length; i += 64 * 1024) await w.append(bytes.subarray(i, i + 64 * 1024));
  };

  it('grows a file of many chunks over flushes and a resume, one snapshot at a time, byte-exact for restic', async () => {
    const parts = [randomBytes(3 * 1024 * 1024), randomBytes(2 * 1024 * 1024 + 17), randomBytes(1024 * 1024 + 5)];
    const w = await ArchiveFileWriter.open(repo, { file: 'mysql-bin.000001', hostname: 'shop' });
    await append(w, parts[0]!);
    const a = await w.flush(['a']);
    assert.equal(a.sizeBytes, parts[0]!.length);
    assert.deepEqual(await repo.listIds('locks'), [], 'no lock between flush intervals');
    await append(w, parts[1]!);
    const b = await w.flush(['b']);
    assert.deepEqual(await snapshotsOf('mysql-bin.000001'), [b.snapshotId], 'the new snapshot replaced the old');
    await w.close();
    const resumed = await ArchiveFileWriter.open(repo, { file: 'mysql-bin.000001', hostname: 'shop', resumeFrom: b.snapshotId });
    assert.equal(resumed.sizeBytes, parts[0]!.length + parts[1]!.length);
    await append(resumed, parts[2]!);
    // An empty flush still saves (tags may change: binlog-closed).
    const c = await resumed.flush(['c']);
    const d = await resumed.flush(['c', 'closed']);
    await resumed.close();
    assert.deepEqual(await snapshotsOf('mysql-bin.000001'), [d.snapshotId]);
    assert.notEqual(c.snapshotId, d.snapshotId);
    assert.ok((await resticDumpBytes(PASSWORD, repoPath, d.snapshotId, '/mysql-bin.000001')).equals(Buffer.concat(parts)));
  });

  it('leaves two snapshots after a crash between a save and its removal; the next writer removes the older', async () => {
    const w = await ArchiveFileWriter.open(repo, { file: 'mysql-bin.000002', hostname: 'shop' });
    await w.append(Buffer.from('first'));
    const first = await w.flush(['one']);
    let crash = true;
    const crashing = await ArchiveFileWriter.open(repo, {
      file: 'mysql-bin.000002',
      hostname: 'shop',
      resumeFrom: first.snapshotId,
      beforeSupersede: async () => {
        if (crash) throw new Error('killed');
      },
    });
    await crashing.append(Buffer.from(' second'));
    await assert.rejects(crashing.flush(['two']), /killed/);
    await crashing.close();
    const both = await snapshotsOf('mysql-bin.000002');
    assert.equal(both.length, 2);
    const newer = both.find((id) => id !== first.snapshotId)!;
    crash = false;
    const next = await ArchiveFileWriter.open(repo, { file: 'mysql-bin.000002', hostname: 'shop', resumeFrom: newer, supersedes: [first.snapshotId] });
    await next.append(Buffer.from(' third'));
    const last = await next.flush(['three']);
    assert.deepEqual(await snapshotsOf('mysql-bin.000002'), [last.snapshotId]);
    assert.equal((await resticDumpBytes(PASSWORD, repoPath, last.snapshotId, '/mysql-bin.000002')).toString(), 'first second third');
  });

  it('refuses to resume from a snapshot that is not the file\'s', async () => {
    const other = await writeSnapshot(repo, Readable.from([Buffer.from('a dump')]), { filename: 'dumpfile.sql', hostname: 'shop' });
    await assert.rejects(ArchiveFileWriter.open(repo, { file: 'mysql-bin.000003', resumeFrom: other.snapshotId }), (err: unknown) => isSidestashError(err, ErrorCodes.CORRUPT_FILE));
    await assert.rejects(ArchiveFileWriter.open(repo, { file: '../mysql-bin.000003' }), (err: unknown) => isSidestashError(err, ErrorCodes.INVALID_ARGUMENT));
  });

  it('leaves a repository restic check --read-data accepts', async () => {
    const checked = await restic(repoPath, PASSWORD, ['check', '--read-data']);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  });
});
