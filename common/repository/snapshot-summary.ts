// The `summary` restic >= 0.17 stores in every snapshot (internal/data/snapshot.go,
// SnapshotSummary), for a backup of one stream: one new file, no directories. data_added is
// the plaintext size of the blobs this backup added (data and tree), data_added_packed what
// they take in the repository (compressed and encrypted, here with their pack headers).
import type { BlobSaverStats } from './blob-saver.ts';

export interface SnapshotSummary {
  backup_start: string;
  backup_end: string;
  files_new: number;
  files_changed: number;
  files_unmodified: number;
  dirs_new: number;
  dirs_changed: number;
  dirs_unmodified: number;
  data_blobs: number;
  tree_blobs: number;
  data_added: number;
  data_added_packed: number;
  total_files_processed: number;
  total_bytes_processed: number;
}

/**
 * `beforeTree`: the saver's statistics after the data blobs, before the tree blob. `files`: the
 * snapshot's files (the stream's, and a dump index beside it) and `sizeBytes` their bytes
 * together, as restic counts them: restic 0.19's rewrite recomputes both totals from the tree and
 * saves a new snapshot when they differ.
 */
export function backupSummary(start: string, end: string, sizeBytes: number, beforeTree: BlobSaverStats, final: BlobSaverStats, files = 1): SnapshotSummary {
  return {
    backup_start: start,
    backup_end: end,
    files_new: files,
    files_changed: 0,
    files_unmodified: 0,
    dirs_new: 0,
    dirs_changed: 0,
    dirs_unmodified: 0,
    data_blobs: beforeTree.newBlobs,
    tree_blobs: final.newBlobs - beforeTree.newBlobs,
    data_added: final.newBlobBytes,
    data_added_packed: final.storedBytes,
    total_files_processed: files,
    total_bytes_processed: sizeBytes,
  };
}
