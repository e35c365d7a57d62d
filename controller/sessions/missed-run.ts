// Whether a new leader runs a scheduled backup that fell between the old leader's death and its
// own takeover (Kubernetes mode): croner only fires forward, so without this a run scheduled
// while no replica led would be lost. The run is caught up when it is recent (within the
// window: a failover takes at most about a lease duration), after the configuration existed,
// and not already fired (its lastScheduleTime is older). The scheduled name is deterministic
// (scheduled-name.ts), so a run the old leader did create conflicts instead of running twice.
export interface MissedRunInput {
  /** The latest time the schedule fired at or before now. */
  scheduledMs: number;
  nowMs: number;
  windowMs: number;
  /** status.lastScheduleTime, when set. */
  lastScheduleMs?: number;
  /** metadata.creationTimestamp, when known. */
  createdMs?: number;
}

/** The cron timer fires on time; a run less than this old is left to it. */
export const CATCH_UP_MIN_AGE_MS = 1000;

export function isMissedRun(i: MissedRunInput): boolean {
  const age = i.nowMs - i.scheduledMs;
  if (!Number.isFinite(age) || age < CATCH_UP_MIN_AGE_MS || age > i.windowMs) return false;
  if (i.createdMs !== undefined && Number.isFinite(i.createdMs) && i.createdMs > i.scheduledMs) return false;
  if (i.lastScheduleMs !== undefined && Number.isFinite(i.lastScheduleMs) && i.lastScheduleMs >= i.scheduledMs) return false;
  return true;
}
