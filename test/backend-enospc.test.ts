// A local repository on a full filesystem (a real 8 MiB tmpfs: needs root, skipped otherwise):
// the backup fails with BACKEND_IO (not retryable, errno ENOSPC) after the first packs were
// stored, leaves no snapshot, no lock and no partial or temporary file; once space is freed,
// `restic check --read-data` passes, the next prune removes the orphaned packs, and the next
// backup succeeds.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { prune } from '../common/repository/prune.ts';
import { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { MiB, incompressible } from './helpers/backend-faults.ts';
import { restic } from './helpers/restic.ts';
import { tempDir } from './helpers/tmp.ts';

const run = promisify(execFile);
const PASSWORD = 'pw-enospc';

/** Every file under dir, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

describe('a local repository on a full filesystem', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let mnt = '';
  let mounted = false;
  before(async () => {
    dir = await tempDir();
    mnt = join(dir.path, 'tiny');
    await mkdir(mnt);
    mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', mnt]).then(
      () => true,
      () => false,
    );
  });
  after(async () => {
    if (mounted) await run('umount', [mnt]);
    await dir?.cleanup();
  });

  it('fails the backup with ENOSPC, leaves no snapshot, lock or partial file; after freeing space check passes and prune removes the orphans', async (t) => {
    if (!mounted) {
      t.skip('cannot mount a tmpfs here (needs root)');
      return;
    }
    const path = join(mnt, 'repo');
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, { scrypt: { N: 1024, r: 8, p: 1 } });
    await assert.rejects(writeSnapshot(repo, incompressible(32 * MiB), { filename: 'dumpfile.sql', packSizeBytes: 2 * MiB }), (err) => {
      assert.ok(isSidestashError(err, ErrorCodes.BACKEND_IO), String(err));
      assert.equal(err.retryable, false);
      assert.equal(err.details.errno, 'ENOSPC');
      assert.match(err.message, /^data\/[0-9a-f]{64}: ENOSPC: no space left on device/);
      return true;
    });
    assert.deepEqual(await listSnapshots(repo), []);
    const files = await filesUnder(path);
    assert.deepEqual(files.filter((f) => f.startsWith('locks/')), [], 'the lock is released');
    assert.deepEqual(files.filter((f) => f.includes('.tmp-')), [], 'no temporary file is left');
    const packs = files.filter((f) => f.startsWith('data/'));
    // How many packs complete before the disk fills depends on how the parallel uploads interleave
    // (three 2 MiB packs in flight fill 8 MiB together): at least one, which the prune below must remove.
    assert.ok(packs.length >= 1, `packs were stored before the disk filled: ${packs.join(', ')}`);
    // Free space (the volume grows, as after an operator's clean-up), then restic reads the repository.
    await run('mount', ['-o', 'remount,size=64m', mnt]);
    const r = await restic(path, PASSWORD, ['check', '--read-data']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const pruned = await prune(await Repository.open(new LocalBackend(path), PASSWORD));
    // Unused if the failed backup could still index them (it tries), orphans if the full disk refused that too.
    assert.equal(pruned.packsRemoved + pruned.orphanedPacksRemoved, packs.length, JSON.stringify(pruned));
    assert.deepEqual((await filesUnder(path)).filter((f) => f.startsWith('data/')), []);
    const ok = await writeSnapshot(repo, incompressible(4 * MiB), { filename: 'dumpfile.sql', packSizeBytes: 2 * MiB });
    assert.deepEqual((await listSnapshots(repo)).map((s) => s.id), [ok.snapshotId]);
    const r2 = await restic(path, PASSWORD, ['check', '--read-data']);
    assert.equal(r2.code, 0, r2.stderr + r2.stdout);
  });
});
