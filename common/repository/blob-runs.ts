// Runs of a file's content blobs that lie back to back in one pack, each read from the backend
// with one request instead of one per blob. The writer (blob-saver.ts) packs a file's new blobs
// in the order the chunker cut them, so a dump's blobs usually come from a pack in long runs;
// a blob deduplicated against an earlier snapshot, or a repeated one, starts a new run.
//
// A run is bounded in stored bytes (maxRunBytes) so that what one read holds stays small; a
// single blob larger than the bound is a run alone. Pure: the plan is tested on tables
// (blob-runs.test.ts), the reading is blob-run-reader.ts.
import type { Id } from './ids.ts';
import type { BlobLocation } from './master-index.ts';

export interface RunBlob {
  id: Id;
  /** Offset of the blob's stored bytes within the run's bytes. */
  offset: number;
  /** Stored (encrypted, maybe compressed) length. */
  length: number;
  uncompressedLength?: number;
}

export interface BlobRun {
  packId: Id;
  /** Offset and length of the run's bytes in the pack. */
  offset: number;
  length: number;
  /** The blobs, in the file's order. */
  blobs: RunBlob[];
}

/** A run's stored bytes at most (a larger blob is a run alone): one read of a few blobs. */
export const DEFAULT_MAX_RUN_BYTES = 1024 * 1024;

/** Groups `locations` (the file's content, in order) into runs; the order of blobs is kept. */
export function planBlobRuns(locations: readonly BlobLocation[], maxRunBytes = DEFAULT_MAX_RUN_BYTES): BlobRun[] {
  const runs: BlobRun[] = [];
  let run: BlobRun | undefined;
  for (const loc of locations) {
    const follows = run !== undefined && run.packId === loc.packId && run.offset + run.length === loc.offset && run.length + loc.length <= maxRunBytes;
    if (!follows) {
      run = { packId: loc.packId, offset: loc.offset, length: 0, blobs: [] };
      runs.push(run);
    }
    const b: RunBlob = { id: loc.id, offset: run!.length, length: loc.length };
    if (loc.uncompressedLength !== undefined) b.uncompressedLength = loc.uncompressedLength;
    run!.blobs.push(b);
    run!.length += loc.length;
  }
  return runs;
}
