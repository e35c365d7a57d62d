// SnapshotWriteStream's releaseInput: each Buffer written is handed back once, after the writer
// has copied it, so its source may overwrite it (the parallel dumper reuses its pieces): the
// stored file is the bytes as written, whatever happens to the Buffers afterwards.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, it } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.ts';
import { LocalBackend } from '../backend/local/local-backend.ts';
import { Repository } from './repository.ts';
import { createFileReadStream, findSnapshotFile } from './snapshot-reader.ts';
import { findSnapshot } from './snapshot.ts';
import { writeSnapshot } from './snapshot-writer.ts';

let dir: { path: string; cleanup: () => Promise<void> };
before(async () => (dir = await tempDir()));
after(async () => dir?.cleanup());

it('hands back each written Buffer once, after copying it: overwriting it then changes nothing stored', async () => {
  const repo = await Repository.init(new LocalBackend(dir.path), 'pw', { scrypt: { N: 1024, r: 8, p: 1 } });
  // 6 MiB in 64 KiB pieces of distinct bytes (several chunks), each piece written once.
  const pieces = Array.from({ length: 96 }, (_, i) => {
    const b = Buffer.allocUnsafe(64 * 1024);
    for (let off = 0; off < b.length; off += 32) createHash('sha256').update(`${i}:${off}`).digest().copy(b, off);
    return b;
  });
  const expected = createHash('sha256');
  for (const p of pieces) expected.update(p);
  const released: Buffer[] = [];
  const { snapshotId } = await writeSnapshot(repo, Readable.from(pieces), {
    filename: 'dumpfile.sql',
    releaseInput: (chunk) => {
      released.push(chunk);
      chunk.fill(0x5a);
    },
  });
  assert.equal(released.length, pieces.length);
  assert.equal(new Set(released).size, pieces.length, 'each Buffer once');
  assert.ok(released.every((b, i) => b === pieces[i]));
  const file = await findSnapshotFile(repo, await findSnapshot(repo, snapshotId));
  const got = createHash('sha256');
  for await (const b of createFileReadStream(repo, file)) got.update(b as Buffer);
  assert.equal(got.digest('hex'), expected.digest('hex'));
});
