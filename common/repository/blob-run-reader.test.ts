// The run reader: one backend read per run of adjacent blobs, the file's bytes unchanged, and
// every blob still checked on its own: a damaged blob in the middle of a run fails the read
// there (CORRUPT_PACK) after the blobs before it, a blob the index lacks is MISSING_BLOB where
// it stands.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { blockStream, plan } from '../../test/helpers/data.ts';
import { tempDir } from '../../test/helpers/tmp.ts';
import type { FileHandle, LoadOptions } from '../backend/backend.ts';
import { LocalBackend } from '../backend/local/local-backend.ts';
import { ErrorCodes, isSidestashError } from '../errors.ts';
import { readBlobRuns } from './blob-run-reader.ts';
import { Repository } from './repository.ts';
import { createFileReadStream, findSnapshotFile } from './snapshot-reader.ts';
import { findSnapshot } from './snapshot.ts';
import { writeSnapshot } from './snapshot-writer.ts';

const PASSWORD = 'pw-runs';
const MiB = 1024 * 1024;

class CountingBackend extends LocalBackend {
  dataLoads = 0;
  override load(handle: FileHandle, options?: LoadOptions): Promise<Uint8Array> {
    if (handle.type === 'data') this.dataLoads++;
    return super.load(handle, options);
  }
}

describe('blob run reader', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let path: string;
  let snapshotId: string;
  let expected: string;
  before(async () => {
    dir = await tempDir();
    path = join(dir.path, 'repo');
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, { scrypt: { N: 1024, r: 8, p: 1 } });
    // 32 MiB: at least 6 blobs whatever the random chunker polynomial cuts (12 MiB gave 5 once).
    const blocks = plan('runs', 32 * MiB);
    const h = createHash('sha256');
    for await (const b of blockStream(blocks)) h.update(b as Buffer);
    expected = h.digest('hex');
    snapshotId = (await writeSnapshot(repo, blockStream(blocks), { filename: 'dumpfile.sql', packSizeBytes: 40 * MiB })).snapshotId;
  });
  after(() => dir?.cleanup());

  const open = async () => {
    const backend = new CountingBackend(path);
    const repo = await Repository.open(backend, PASSWORD);
    const file = await findSnapshotFile(repo, await findSnapshot(repo, snapshotId));
    return { backend, repo, file, ids: file.node.content ?? [] };
  };

  it('reads the file with fewer backend reads than blobs, its bytes unchanged', async () => {
    const { backend, repo, file, ids } = await open();
    assert.ok(ids.length >= 6, `${ids.length} blobs`);
    const index = await repo.index();
    assert.equal(new Set(ids.map((id) => index.lookup('data', id)!.packId)).size, 1, 'one pack');
    const h = createHash('sha256');
    for await (const b of createFileReadStream(repo, file)) h.update(b as Buffer);
    assert.equal(h.digest('hex'), expected);
    // The file's blobs lie in one pack, nearly in order (the writer compresses several at once):
    // a read per run of them within a window of the file, not one per blob.
    backend.dataLoads = 0;
    const runs: number[] = [];
    const w = createHash('sha256');
    for await (const b of readBlobRuns(repo, ids, { maxRunBytes: 8 * MiB, onRead: (r) => runs.push(r.blobs.length) })) w.update(b);
    assert.equal(w.digest('hex'), expected);
    assert.equal(backend.dataLoads, runs.length);
    assert.equal(runs.reduce((a, n) => a + n, 0), ids.length);
    assert.ok(runs.length < ids.length / 2, `${runs.length} reads for ${ids.length} blobs`);
  });

  it('a damaged blob inside a run is CORRUPT_PACK, after the blobs before it came out', async () => {
    const { repo, ids } = await open();
    const index = await repo.index();
    // The third blob of the file, inside its run (the blobs before it in the same pack).
    const victim = index.lookup('data', ids[2]!)!;
    assert.equal(index.lookup('data', ids[1]!)!.packId, victim.packId, 'adjacent blobs share a pack');
    const pack = join(path, 'data', victim.packId.slice(0, 2), victim.packId);
    const bytes = await readFile(pack);
    try {
      bytes[victim.offset + 40] = bytes[victim.offset + 40]! ^ 0x01;
      await chmod(pack, 0o600);
      await writeFile(pack, bytes);
      const { repo: damaged } = await open();
      const got: Buffer[] = [];
      await assert.rejects(
        (async () => {
          for await (const b of readBlobRuns(damaged, ids)) got.push(b);
        })(),
        (err) => isSidestashError(err, ErrorCodes.CORRUPT_PACK) && err.details?.blobId === ids[2],
      );
      assert.equal(got.length, 2);
    } finally {
      bytes[victim.offset + 40] = bytes[victim.offset + 40]! ^ 0x01;
      await writeFile(pack, bytes);
    }
  });

  it('a blob whose stored bytes are another blob\'s (an index that lies) is CORRUPT_PACK: its content does not match its id', async () => {
    const { repo, ids } = await open();
    const index = await repo.index();
    const real = index.lookup.bind(index);
    // The index sends the second blob's id to the third blob's bytes: MAC and zstd pass, SHA-256 does not.
    index.lookup = (type, id) => (id === ids[1] ? { ...real(type, ids[2]!)!, id } : real(type, id));
    const got: Buffer[] = [];
    await assert.rejects(
      (async () => {
        for await (const b of readBlobRuns(repo, ids.slice(0, 3))) got.push(b);
      })(),
      (err) => isSidestashError(err, ErrorCodes.CORRUPT_PACK) && /does not match its id/.test(err.message) && err.details?.blobId === ids[1],
    );
    assert.equal(got.length, 1);
  });

  it('a blob the index lacks is MISSING_BLOB where it stands', async () => {
    const { repo, ids } = await open();
    const got: Buffer[] = [];
    const missing = 'f'.repeat(64);
    await assert.rejects(
      (async () => {
        for await (const b of readBlobRuns(repo, [ids[0]!, ids[1]!, missing, ids[2]!], { windowBlobs: 2 })) got.push(b);
      })(),
      (err) => isSidestashError(err, ErrorCodes.MISSING_BLOB) && err.details?.blobId === missing,
    );
    assert.equal(got.length, 2);
  });

  it('an index entry that places a blob where none can lie is that blob\'s CORRUPT_PACK, where it stands: its neighbours in a run are not blamed, nothing huge is read', async () => {
    const lies: Record<string, (loc: Record<string, unknown>) => Record<string, unknown>> = {
      'negative length': (l) => ({ ...l, length: -5 }),
      'fractional length': (l) => ({ ...l, length: (l.length as number) + 0.5 }),
      'length as a string': (l) => ({ ...l, length: String(l.length) }),
      'NaN length': (l) => ({ ...l, length: Number.NaN }),
      'length shorter than IV and MAC': (l) => ({ ...l, length: 0 }),
      'length of a terabyte': (l) => ({ ...l, length: 2 ** 40 }),
      'length past any chunk': (l) => ({ ...l, length: 9 * MiB }),
      'negative offset': (l) => ({ ...l, offset: -10 }),
      'offset as a string': (l) => ({ ...l, offset: String(l.offset) }),
      'offset past 2^53': (l) => ({ ...l, offset: 2 ** 60 }),
      'uncompressed length of 16 GiB': (l) => ({ ...l, uncompressedLength: 2 ** 34 }),
      'negative uncompressed length': (l) => ({ ...l, uncompressedLength: -1 }),
      'uncompressed length as a string': (l) => ({ ...l, uncompressedLength: 'x' }),
    };
    for (const [name, lie] of Object.entries(lies)) {
      const { backend, repo, ids } = await open();
      const index = await repo.index();
      const real = index.lookup.bind(index);
      index.lookup = (type, id) => (id === ids[1] ? (lie(real(type, id) as unknown as Record<string, unknown>) as unknown as ReturnType<typeof real>) : real(type, id));
      backend.dataLoads = 0;
      const sizes: number[] = [];
      const got: Buffer[] = [];
      await assert.rejects(
        (async () => {
          for await (const b of readBlobRuns(repo, ids, { maxRunBytes: 64 * MiB, onRead: (r) => sizes.push(r.length) })) got.push(b);
        })(),
        (err) => isSidestashError(err, ErrorCodes.CORRUPT_PACK) && err.details?.blobId === ids[1],
        name,
      );
      assert.equal(got.length, 1, `${name}: the blob before it came out`);
      assert.ok(sizes.every((n) => Number.isSafeInteger(n) && n <= 64 * MiB), `${name}: reads ${sizes.join(',')}`);
      await assert.rejects(repo.loadBlob('data', ids[1]!), (err) => isSidestashError(err, ErrorCodes.CORRUPT_PACK) && err.details?.blobId === ids[1], `${name}: loadBlob`);
      assert.equal(backend.dataLoads, sizes.length, `${name}: loadBlob read nothing`);
    }
  });

  it('a pack shorter than its index says fails at the first blob past its end, after the blobs of the same run before it came out', async () => {
    const { repo, ids } = await open();
    const index = await repo.index();
    const locs = ids.slice(0, 4).map((id) => index.lookup('data', id)!);
    assert.equal(new Set(locs.map((l) => l.packId)).size, 1, 'one pack');
    // The blob lying last in the pack of the file's first four: every blob before it in the file lies before it in the pack.
    const victim = locs.reduce((a, l, i) => (l.offset > locs[a]!.offset ? i : a), 0);
    assert.ok(victim >= 1, 'a blob before the victim');
    const pack = join(path, 'data', locs[victim]!.packId.slice(0, 2), locs[victim]!.packId);
    const bytes = await readFile(pack);
    try {
      await chmod(pack, 0o600);
      await truncate(pack, locs[victim]!.offset + 10);
      const got: Buffer[] = [];
      const runs: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const b of readBlobRuns(repo, ids, { maxRunBytes: 64 * MiB, onRead: (r) => runs.push(r.blobs.length) })) got.push(b);
        })(),
        (err) => isSidestashError(err),
      );
      assert.ok(runs[0]! > victim, `the victim shares the first run (${runs.join(',')})`);
      assert.equal(got.length, victim);
    } finally {
      await writeFile(pack, bytes);
    }
  });

  it('stops at an abort with its code, even where the blobs after it were read with the same run', async () => {
    const { repo, ids } = await open();
    for (const afterBlobs of [0, 1, 3]) {
      const ac = new AbortController();
      const got: Buffer[] = [];
      await assert.rejects(
        (async () => {
          if (afterBlobs === 0) ac.abort();
          for await (const b of readBlobRuns(repo, ids, { signal: ac.signal, maxRunBytes: 64 * MiB })) {
            got.push(b);
            if (got.length === afterBlobs) ac.abort();
          }
        })(),
        (err) => isSidestashError(err, ErrorCodes.ABORTED),
        `abort after ${afterBlobs}`,
      );
      assert.equal(got.length, afterBlobs, `abort after ${afterBlobs}: no blob comes out after it`);
    }
  });
});
