// Runs of a file's content blobs that lie back to back in one pack, each read from the backend
// with one request instead of one per blob. The writer (blob-saver.ts) compresses several blobs
// at once and adds each to the pack as its compression ends, so a file's blobs lie in a pack
// nearly in the file's order: a smaller blob can overtake a larger one by a few places (in the
// 192 MiB benchmark dump, half of the blobs follow their predecessor directly in its pack). The
// plan therefore looks at the file `windowBlobs` blobs at a time and groups, within that window,
// the blobs that lie back to back in a pack, whatever their order in the file; a blob
// deduplicated against an earlier snapshot, or a repeated one, is a run of its own.
//
// A run is bounded in stored bytes (maxRunBytes), so that what one read holds stays small; a
// single blob larger than the bound is a run alone. A run's bytes are held until the last of its
// blobs is opened, at most a window later. Pure: the plan is tested on tables
// (blob-runs.test.ts), the reading is blob-run-reader.ts.
import type { Id } from './ids.ts';
import type { BlobLocation } from './master-index.ts';

export interface RunBlob {
  id: Id;
  /** The blob's place in the file's content list (the input's index). */
  position: number;
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
  /** The blobs, in the pack's order. */
  blobs: RunBlob[];
}

/** A run's stored bytes at most (a larger blob is a run alone): one read of a few blobs. */
export const DEFAULT_MAX_RUN_BYTES = 2 * 1024 * 1024;
/** Blobs of the file looked at together: how far a blob may have been overtaken in its pack. */
export const DEFAULT_WINDOW_BLOBS = 8;

/**
 * Groups `locations` (the file's content, in order; `firstPosition` is the first one's place in
 * the file) into runs, window by window; runs come in the order of their first blob in the file.
 */
export function planBlobRuns(locations: readonly BlobLocation[], maxRunBytes = DEFAULT_MAX_RUN_BYTES, windowBlobs = DEFAULT_WINDOW_BLOBS, firstPosition = 0): BlobRun[] {
  const runs: BlobRun[] = [];
  const window = Math.max(1, windowBlobs);
  for (let from = 0; from < locations.length; from += window) {
    const inPackOrder = locations
      .slice(from, from + window)
      .map((loc, i) => ({ loc, position: firstPosition + from + i }))
      .sort((a, b) => (a.loc.packId < b.loc.packId ? -1 : a.loc.packId > b.loc.packId ? 1 : a.loc.offset - b.loc.offset || a.position - b.position));
    const windowRuns: BlobRun[] = [];
    let run: BlobRun | undefined;
    for (const { loc, position } of inPackOrder) {
      const follows = run !== undefined && run.packId === loc.packId && run.offset + run.length === loc.offset && run.length + loc.length <= maxRunBytes;
      if (!follows) {
        run = { packId: loc.packId, offset: loc.offset, length: 0, blobs: [] };
        windowRuns.push(run);
      }
      const b: RunBlob = { id: loc.id, position, offset: run!.length, length: loc.length };
      if (loc.uncompressedLength !== undefined) b.uncompressedLength = loc.uncompressedLength;
      run!.blobs.push(b);
      run!.length += loc.length;
    }
    const first = (r: BlobRun): number => Math.min(...r.blobs.map((b) => b.position));
    runs.push(...windowRuns.sort((a, b) => first(a) - first(b)));
  }
  return runs;
}
