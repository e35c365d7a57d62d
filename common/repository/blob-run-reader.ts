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
import { ErrorCodes, SidestashError, throwIfAborted } from '../errors.ts';
import { blobPlaceProblem } from './blob-location.ts';
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
  /** A blob the index lacks, or places where no blob can lie: its error, raised when the consumer reaches it. */
  error?: SidestashError;
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
  /**
   * Plans the next window of ids (in file order); a missing blob, or one the index places where
   * no blob can lie (blob-location.ts), is a task that fails where it stands, read with no other.
   */
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
      const problem = loc && blobPlaceProblem(loc);
      if (loc && !problem) {
        locations.push(loc);
        continue;
      }
      flush();
      const run: BlobRun = { packId: loc?.packId ?? '', offset: 0, length: 0, blobs: [] };
      const error = loc
        ? new SidestashError(ErrorCodes.CORRUPT_PACK, `data blob ${id} in pack ${loc.packId}: ${problem}`, { details: { packId: loc.packId, blobId: id } })
        : new SidestashError(ErrorCodes.MISSING_BLOB, `data blob ${id} not found in index`, { details: { blobId: id } });
      tasks.push({ run, blob: { id, position: planned, offset: 0, length: 0 }, error });
      first = planned + 1;
    }
    flush();
  };
  const reads = new Map<BlobRun, Promise<Uint8Array>>();
  const load = (packId: Id, offset: number, length: number): Promise<Uint8Array> =>
    repo.backend.load({ type: 'data', name: packId }, { offset, length, ...signalOpt }).then((bytes) => {
      if (bytes.length !== length) throw new SidestashError(ErrorCodes.BACKEND_IO, `data/${packId}: read ${bytes.length} bytes of ${length}`);
      return bytes;
    });
  const read = (run: BlobRun): Promise<Uint8Array> => {
    let p = reads.get(run);
    if (!p) {
      options.onRead?.(run);
      p = load(run.packId, run.offset, run.length);
      reads.set(run, p);
    }
    return p;
  };
  /**
   * The blob's stored bytes: a view of its run's, or, when the run's read failed (a pack shorter
   * than its index says, a run crossing the pack's end), a read of the blob alone, so that each
   * blob of the run gets its own verdict, as Repository.loadBlob gives it: the blobs before a
   * damaged one still come out, and the error names the blob that is damaged.
   */
  const sealedOf = (run: BlobRun, blob: RunBlob): Promise<Uint8Array> =>
    read(run).then(
      (b) => b.subarray(blob.offset, blob.offset + blob.length),
      (err: unknown) => {
        if (run.blobs.length === 1 || options.signal?.aborted) throw err;
        return load(run.packId, run.offset + blob.offset, blob.length);
      },
    );
  const start = (t: Task): Promise<Buffer> => {
    if (t.error !== undefined) return Promise.reject(t.error);
    const bytes = sealedOf(t.run, t.blob);
    const left = unstarted.get(t.run)! - 1;
    if (left > 0) unstarted.set(t.run, left);
    else {
      unstarted.delete(t.run);
      reads.delete(t.run);
    }
    const { blob, run } = t;
    return bytes.then((b) => openBlob(repo.key, { id: blob.id, type: 'data', packId: run.packId, uncompressedLength: blob.uncompressedLength }, b));
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
    // A run read before the abort holds the blobs after it: they do not come out.
    throwIfAborted(options.signal);
    fill();
    yield blob;
  }
}
