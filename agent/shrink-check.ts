// The shrink guard in a backup: before the dump, the previous dump of the same configuration
// is looked up in the repository; after it, the new size is compared with it.
import { errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import type { BackupAssignment, SuspiciousShrink } from '../common/protocol.ts';
import type { Repository } from '../common/repository/repository.ts';
import type { TargetRef } from '../common/repository/snapshot-selector.ts';
import { DEFAULT_SHRINK_GUARD_PERCENT, shrinkVerdict } from '../common/shrink-guard.ts';
import { previousDump } from './target-snapshots.ts';

export interface PreviousDump {
  snapshotId: string;
  bytes: number;
}

/** The threshold in percent; 0 when the guard is off. A bad value from the controller falls back to the default. */
export function guardPercent(a: BackupAssignment): number {
  const p = a.shrinkGuardPercent;
  return typeof p === 'number' && Number.isFinite(p) && p >= 0 && p <= 100 ? p : DEFAULT_SHRINK_GUARD_PERCENT;
}

/**
 * The previous dump (the newest of the configuration not itself flagged), undefined when the
 * guard is off or there is none, 'unreadable' when it cannot be read (logged; the caller then
 * skips retention).
 */
export async function previousForGuard(repo: Repository, a: BackupAssignment, t: TargetRef, log: Logger, signal: AbortSignal): Promise<PreviousDump | 'unreadable' | undefined> {
  if (guardPercent(a) === 0) return undefined;
  try {
    return await previousDump(repo, t, a.invoker, a.filename, { signal });
  } catch (err) {
    if (signal.aborted) throw err;
    log.warn('shrink guard: cannot read the previous snapshot; this backup is not compared and retention is skipped', { err: errorMessage(err) });
    return 'unreadable';
  }
}

/** The finding when the new dump is suspiciously small, else undefined. */
export function checkShrink(a: BackupAssignment, previous: PreviousDump | undefined, bytes: number): SuspiciousShrink | undefined {
  const thresholdPercent = guardPercent(a);
  const v = shrinkVerdict(previous?.bytes, bytes, thresholdPercent);
  if (!v?.suspicious || !previous) return undefined;
  return { previousSnapshotId: previous.snapshotId, previousBytes: previous.bytes, bytes, percent: v.percent, thresholdPercent };
}
