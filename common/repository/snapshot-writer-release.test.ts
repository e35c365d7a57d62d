// A failed backup removes its lock with a deadline of its own (snapshot-writer.ts): the removal
// is not retried through a whole retry window after the window that failed the backup has
// already run out (review r15: a failed backup took twice the window to end).
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, it } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.ts';
import { LocalBackend } from '../backend/local/local-backend.ts';
import type { CallOptions, FileHandle, SaveOptions } from '../backend/backend.ts';
import { ErrorCodes, SidestashError } from '../errors.ts';
import { Repository } from './repository.ts';
import { SnapshotWriteStream } from './snapshot-writer.ts';

class FailingData extends LocalBackend {
  lockRemovals: (AbortSignal | undefined)[] = [];
  override async save(handle: FileHandle, data: Uint8Array, options?: SaveOptions): Promise<void> {
    if (handle.type === 'data') throw new SidestashError(ErrorCodes.BACKEND_IO, 'the backend kept failing', { retryable: true });
    return super.save(handle, data, options);
  }

  override async remove(handle: FileHandle, options?: CallOptions): Promise<void> {
    if (handle.type === 'locks') this.lockRemovals.push(options?.signal);
    return super.remove(handle);
  }
}

let dir: { path: string; cleanup: () => Promise<void> };
before(async () => (dir = await tempDir()));
after(async () => dir?.cleanup());

it('the lock of a failed backup is removed under a deadline, not the backend\'s whole retry window', async () => {
  await Repository.init(new LocalBackend(dir.path), 'pw');
  const backend = new FailingData(dir.path);
  const repo = await Repository.open(backend, 'pw');
  const writer = new SnapshotWriteStream(repo, { filename: 'dumpfile.sql', packSizeBytes: 1024 * 1024 });
  await assert.rejects(pipeline(Readable.from([Buffer.alloc(8 * 1024 * 1024, 7)]), writer), /kept failing/);
  assert.equal(backend.lockRemovals.length, 1);
  const signal = backend.lockRemovals[0];
  assert.ok(signal, 'the removal has a deadline');
  assert.equal(signal.aborted, false);
});
