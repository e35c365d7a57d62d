// A file's content blobs, read run by run (blob-runs.ts): one backend request for each run of
// blobs that lie back to back in a pack, instead of one per blob (the local backend opened,
// stat'ed and closed the pack file for every blob, and each blob's ciphertext was a buffer of its
// own). Every blob is still authenticated (MAC verified before anything is decrypted),
// decompressed and hash-checked on its own (blob-open.ts), exactly as Repository.loadBlob does,
// and they come out in the file's order.
//
// Bounded: the content ids are looked up a window at a time (a dump of 100 GiB lists ~100,000
// blobs), and at most `prefetch` blobs are being opened ahead of the consumer, with the reads of
// the runs they lie in; a run's bytes are dropped once its last blob is opened (a run's blobs
// all lie in one window of the file, so that is at most a window later).
import type { CallOptions } from '../backend/backend.ts';
import { ErrorCodes, SidestashError } from '../errors.ts';
import { openBlob } from './blob-open.ts';
import { DEFAULT_MAX_RUN_BYTES, DEFAULT_WINDOW_BLOBS, planBlobRuns } from './blob-runs.ts';
import type { BlobRun, RunBlob } from './blob-runs.ts';
import type { Id } from './ids.ts';
import type { BlobLocation } from './master-index.ts';
import type { Repository } from './repository.ts';

export interface BlobRunReaderOptions extends CallOptions {
  /** Blobs being opened ahead of the consumer (default 4). */
  prefetch?: number;
  /** Stored bytes of one read at most (default DEFAULT_MAX_RUN_BYTES). */
  maxRunBytes?: number;
  /** Content ids looked up and planned together (default DEFAULT_WINDOW_BLOBS): blobs of a pack in that window are read together, in whatever order they lie. */
  windowBlobs?: number;
  /** Counts backend reads (tests, benchmarks). */
  onRead?: (run: BlobRun) => void;
}

interface Task {
  run: BlobRun;
  blob: RunBlob;
  /** A blob the index lacks: its error, raised when the consumer reaches it. */
  missing?: Id;
}

/** The plaintext of each blob of `ids`, in order; each verified as Repository.loadBlob verifies it. */
export async function* readBlobRuns(repo: Repository, ids: readonly Id[], options: BlobRunReaderOptions = {}): AsyncGenerator<Buffer> {
  const prefetch = Math.max(1, options.prefetch ?? 4);
  const windowBlobs = Math.max(1, options.windowBlobs ?? DEFAULT_WINDOW_BLOBS);
  const signalOpt = options.signal ? { signal: options.signal } : {};
  const index = await repo.index(signalOpt);
  let planned = 0;
  const tasks: Task[] = [];
  /** Blobs of each run not yet started: its bytes go once the last one is. */
  const unstarted = new Map<BlobRun, number>();
  /** Plans the next window of ids (in file order); a missing blob is a task that fails where it stands. */
  const plan = (): void => {
    const locations: BlobLocation[] = [];
    let first = planned;
    const flush = (): void => {
      const planTasks: Task[] = [];
      for (const run of planBlobRuns(locations, options.maxRunBytes ?? DEFAULT_MAX_RUN_BYTES, windowBlobs, first)) {
        unstarted.set(run, run.blobs.length);
        for (const blob of run.blobs) planTasks.push({ run, blob });
      }
      tasks.push(...planTasks.sort((a, b) => a.blob.position - b.blob.position));
      locations.length = 0;
    };
    const end = Math.min(ids.length, planned + windowBlobs);
    for (; planned < end; planned++) {
      const id = ids[planned]!;
      const loc = index.lookup('data', id);
      if (loc) {
        locations.push(loc);
        continue;
      }
      flush();
      const run: BlobRun = { packId: '', offset: 0, length: 0, blobs: [] };
      tasks.push({ run, blob: { id, position: planned, offset: 0, length: 0 }, missing: id });
      first = planned + 1;
    }
    flush();
  };
  const reads = new Map<BlobRun, Promise<Uint8Array>>();
  const read = (run: BlobRun): Promise<Uint8Array> => {
    let p = reads.get(run);
    if (!p) {
      options.onRead?.(run);
      p = repo.backend.load({ type: 'data', name: run.packId }, { offset: run.offset, length: run.length, ...signalOpt }).then((bytes) => {
        if (bytes.length !== run.length) throw new SidestashError(ErrorCodes.BACKEND_IO, `data/${run.packId}: read ${bytes.length} bytes of ${run.length}`);
        return bytes;
      });
      reads.set(run, p);
    }
    return p;
  };
  const start = (t: Task): Promise<Buffer> => {
    if (t.missing !== undefined) return Promise.reject(new SidestashError(ErrorCodes.MISSING_BLOB, `data blob ${t.missing} not found in index`, { details: { blobId: t.missing } }));
    const bytes = read(t.run);
    const left = unstarted.get(t.run)! - 1;
    if (left > 0) unstarted.set(t.run, left);
    else {
      unstarted.delete(t.run);
      reads.delete(t.run);
    }
    const { blob, run } = t;
    return bytes.then((b) => openBlob(repo.key, { id: blob.id, type: 'data', packId: run.packId, uncompressedLength: blob.uncompressedLength }, b.subarray(blob.offset, blob.offset + blob.length)));
  };
  const ahead: Promise<Buffer>[] = [];
  const fill = (): void => {
    while (ahead.length < prefetch) {
      if (tasks.length === 0 && planned < ids.length) plan();
      const t = tasks.shift();
      if (!t) return;
      const p = start(t);
      p.catch(() => {}); // surfaced when awaited below
      ahead.push(p);
    }
  };
  fill();
  while (ahead.length > 0) {
    const blob = await ahead.shift()!;
    fill();
    yield blob;
  }
}
