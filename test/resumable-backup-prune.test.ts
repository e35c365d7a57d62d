// Resumable backups and a prune in between: an interrupted backup leaves its packs indexed but
// in no snapshot, and a prune (another target's retention, on another agent) removes them as
// unused. The next backup of the interrupted target must not reuse them: its dedup has to see
// the repository as it is once it holds its lock. The agent reads the previous snapshot (the
// shrink guard: agent/target-snapshots.ts previousDump) before the backup takes its lock, and
// that read loads the repository's index; a prune may run in between. Real local repository,
// real prune, restic 0.14 checks the result.
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { previousDump } from '../agent/target-snapshots.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { prune } from '../common/repository/prune.ts';
import { Repository } from '../common/repository/repository.ts';
import { targetTags } from '../common/repository/snapshot-selector.ts';
import { SnapshotWriteStream, writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { restic, resticDumpSha256, sha256Of } from './helpers/restic.ts';
import { tempDir } from './helpers/tmp.ts';

const PASSWORD = 'pw-resume-prune';
const MiB = 1024 * 1024;
const STREAM_BYTES = 8 * MiB;
const PACK_BYTES = 256 * 1024;
const INIT = { scrypt: { N: 1024, r: 8, p: 1 }, chunkerPolynomial: 0x3da3358b4dc173n };
const TARGET = { namespace: 'shop', name: 'db' };
const TAGS = ['invoker=nightly', ...targetTags(TARGET)];

/** The same incompressible bytes every time; `seed` makes another target's dump. */
function stream(seed = 7, before: () => void = () => {}): Readable {
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, seed), Buffer.alloc(16));
  return Readable.from((function* () {
    for (let done = 0; done < STREAM_BYTES; done += MiB) {
      before();
      yield cipher.update(Buffer.alloc(MiB));
    }
  })(), { highWaterMark: 1 });
}

describe('resumable backups with a prune between the attempts', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('sidestash-resume-prune-');
  });
  after(async () => {
    await dir?.cleanup();
  });

  it('the next backup does not reuse packs a prune removed after the agent read the index', async () => {
    const location = `${dir.path}/repo`;
    const repo = await Repository.init(new LocalBackend(location), PASSWORD, INIT);
    // Yesterday's backup of the target (a smaller, different dump): the shrink guard's baseline.
    await writeSnapshot(repo, Readable.from([Buffer.from('-- yesterday\n')]), { filename: 'dumpfile.sql', hostname: 'db', tags: TAGS, packSizeBytes: PACK_BYTES });

    // Today's backup is cancelled at 70%: its packs are indexed, in no snapshot.
    const ac = new AbortController();
    const writer = new SnapshotWriteStream(repo, { filename: 'dumpfile.sql', hostname: 'db', tags: TAGS, packSizeBytes: PACK_BYTES, signal: ac.signal });
    await assert.rejects(pipeline(stream(7, () => {
      if (writer.bytesWritten >= 0.7 * STREAM_BYTES) queueMicrotask(() => ac.abort());
    }), writer, { signal: ac.signal }));
    if (!writer.closed) await once(writer, 'close');

    // The agent's next attempt opens the repository and reads the previous dump (the shrink guard) ...
    const next = await Repository.open(new LocalBackend(location), PASSWORD);
    assert.ok(await previousDump(next, TARGET, 'nightly', 'dumpfile.sql'));
    // ... meanwhile another agent's retention prunes: the cancelled backup's packs are unused.
    const other = await Repository.open(new LocalBackend(location), PASSWORD);
    const pruned = await prune(other);
    assert.ok(pruned.packsRemoved > 0, `the prune removed the cancelled backup's packs: ${JSON.stringify(pruned)}`);

    // ... then the backup runs, and must store what the prune removed again.
    const result = await writeSnapshot(next, stream(), { filename: 'dumpfile.sql', hostname: 'db', tags: TAGS, packSizeBytes: PACK_BYTES });
    const want = await sha256Of(stream());
    const check = await restic(location, PASSWORD, ['check', '--read-data']);
    assert.equal(check.code, 0, `restic check: ${check.stderr}${check.stdout}`);
    const dumped = await resticDumpSha256(location, PASSWORD, result.snapshotId, '/dumpfile.sql');
    assert.equal(dumped.code, 0, `the new snapshot cannot be restored: ${dumped.stderr}`);
    assert.deepEqual({ sha256: dumped.sha256, bytes: dumped.bytes }, want);
  });
});
