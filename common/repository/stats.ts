// restic's `stats` in its two common modes (cmd_stats.go of restic 0.14):
// restore-size: what restoring each snapshot would write (file sizes and counts, summed over
//   the snapshots: a file in two snapshots counts twice);
// raw-data: the blobs the snapshots reference, each once, at their stored (packed) size.
import type { CallOptions } from '../backend/backend.ts';
import { ErrorCodes, SidestashError } from '../errors.ts';
import type { Repository } from './repository.ts';
import { loadTree } from './snapshot.ts';
import type { Snapshot } from './snapshot.ts';
import { collectUsedBlobs } from './tree-walk.ts';

export interface RestoreSizeStats {
  total_size: number;
  total_file_count: number;
  snapshots_count: number;
}

export interface RawDataStats {
  total_size: number;
  total_file_count: number;
  total_blob_count: number;
  snapshots_count: number;
}

export async function restoreSizeStats(repo: Repository, snapshots: readonly Snapshot[], options: CallOptions = {}): Promise<RestoreSizeStats> {
  let size = 0;
  let files = 0;
  for (const s of snapshots) {
    const pending = [s.tree];
    while (pending.length > 0) {
      for (const node of (await loadTree(repo, pending.pop()!, options)).nodes) {
        if (node.type === 'dir' && node.subtree) pending.push(node.subtree);
        if (node.type === 'file') {
          files++;
          size += typeof node.size === 'number' ? node.size : 0;
        }
      }
    }
  }
  return { total_size: size, total_file_count: files, snapshots_count: snapshots.length };
}

export async function rawDataStats(repo: Repository, snapshots: readonly Snapshot[], options: CallOptions = {}): Promise<RawDataStats> {
  const used = await collectUsedBlobs(repo, snapshots, {}, options);
  const index = await repo.index(options);
  let size = 0;
  for (const key of used) {
    const loc = key.startsWith('t') ? index.lookup('tree', key.slice(1)) : index.lookup('data', key);
    if (!loc) throw new SidestashError(ErrorCodes.CORRUPT_FILE, `blob ${key.replace(/^t/, 'tree ')} is referenced but not in the index; run "sidestash repo check"`);
    size += loc.length;
  }
  return { total_size: size, total_file_count: 0, total_blob_count: used.size, snapshots_count: snapshots.length };
}
