// Stash's file counts for a backup of one dump file, as restic reports them for a stdin
// backup (Stash's `restic backup --stdin`): new when the configuration has no earlier snapshot
// of it, otherwise modified (a dump has no mtime to match, so it is never "unmodified").
import { errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import type { BackupAssignment, SessionResult } from '../common/protocol.ts';
import type { Repository } from '../common/repository/repository.ts';
import type { TargetRef } from '../common/repository/snapshot-selector.ts';
import type { PreviousDump } from './shrink-check.ts';
import { previousDump } from './target-snapshots.ts';

export type FileCounts = NonNullable<SessionResult['files']>;

export function fileCounts(hadPrevious: boolean): FileCounts {
  return hadPrevious ? { new: 0, modified: 1, unmodified: 0 } : { new: 1, modified: 0, unmodified: 0 };
}

/**
 * Whether the configuration had a dump before this one: the shrink guard's lookup when it ran,
 * else a lookup of its own; undefined when that cannot be read (the counts are then left out).
 */
export async function hadPreviousDump(repo: Repository, a: BackupAssignment, t: TargetRef, guard: PreviousDump | 'unreadable' | undefined, guardRan: boolean, log: Logger, signal: AbortSignal): Promise<boolean | undefined> {
  if (guard === 'unreadable') return undefined;
  if (guardRan) return guard !== undefined;
  try {
    return (await previousDump(repo, t, a.invoker, a.filename, { signal })) !== undefined;
  } catch (err) {
    if (signal.aborted) throw err;
    log.warn('cannot read the previous snapshot; file counts are left out', { err: errorMessage(err) });
    return undefined;
  }
}
