// When a BackupConfiguration's schedule fires: one place for the cron options, so that the
// scheduler, validation and the tests agree. A schedule without `spec.timezone` runs in UTC,
// whatever the controller process's TZ (Kubernetes clusters run their control plane in UTC;
// an edge box's local zone must not shift backups silently).
//
// Across DST changes croner follows Vixie cron (croner's documentation, "DST handling"):
// a fixed-time job (one value each in seconds, minutes and hours, e.g. `30 2 * * *`) whose
// time does not exist on the spring-forward day runs at the first valid time after the gap,
// the same day; a time that occurs twice on the fall-back day runs once, at its first
// occurrence. Interval jobs (`*/15 * * * *`) run at every wall-clock time that exists.
import { Cron } from 'croner';

export const DEFAULT_SCHEDULE_TIMEZONE = 'UTC';

export interface ScheduleSpec {
  schedule: string;
  timezone?: string;
}

/** The zone a schedule runs in. */
export function scheduleTimezone(spec: ScheduleSpec): string {
  return spec.timezone ?? DEFAULT_SCHEDULE_TIMEZONE;
}

/** A croner job for the schedule (paused unless `onFire` is given). */
export function cronFor(spec: ScheduleSpec, onFire?: () => void): Cron {
  const options = { timezone: scheduleTimezone(spec), protect: true, ...(onFire ? {} : { paused: true }) };
  return onFire ? new Cron(spec.schedule, options, onFire) : new Cron(spec.schedule, options);
}

/** The next `count` firing times strictly after `fromMs` (pure: no timers run). */
export function nextRunTimes(spec: ScheduleSpec, fromMs: number, count: number): Date[] {
  const cron = cronFor(spec);
  try {
    return cron.nextRuns(count, new Date(fromMs));
  } finally {
    cron.stop();
  }
}

/** The scheduled time of a firing noticed at `firedAtMs`: the latest firing time not after it (timers run late, never early). */
export function scheduledRunAt(spec: ScheduleSpec, firedAtMs: number): number {
  const cron = cronFor(spec);
  try {
    return cron.previousRuns(1, new Date(firedAtMs + 1))[0]?.getTime() ?? firedAtMs;
  } finally {
    cron.stop();
  }
}

/** The latest firing time at or before `atMs`; undefined when the schedule never fired before it. */
export function latestRunAt(spec: ScheduleSpec, atMs: number): number | undefined {
  const cron = cronFor(spec);
  try {
    return cron.previousRuns(1, new Date(atMs + 1))[0]?.getTime();
  } finally {
    cron.stop();
  }
}
