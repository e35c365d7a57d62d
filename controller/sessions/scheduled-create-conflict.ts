// What a CONFLICT on creating a scheduled BackupSession means. The session's name is the
// configuration's and the scheduled time's (scheduled-name.ts), so a taken name (CONFLICT, not
// retryable) is the same run already created, by another controller around a failover: nothing
// to do. A stale version (CONFLICT, retryable) is not that: something the creation read changed
// while it wrote, and the run was NOT created; it is reported as such, not as a duplicate.
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { isStaleVersion } from '../store/retry-on-conflict.ts';

export type ScheduledCreateConflict = 'already-created' | 'stale-version';

/** 'already-created' for a taken name, 'stale-version' for a stale read, undefined for any other error. */
export function scheduledCreateConflict(err: unknown): ScheduledCreateConflict | undefined {
  if (!isSidestashError(err, ErrorCodes.CONFLICT)) return undefined;
  return isStaleVersion(err) ? 'stale-version' : 'already-created';
}
