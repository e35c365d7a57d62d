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

/**
 * Parsed schedules, shared by every caller: croner keeps a 10,000-entry table of years with each
 * parsed pattern (about 80 KiB), so one croner job per configuration held 148 MiB of a 2,000-
 * configuration controller's heap, and every firing parsed its schedule again (another 80 KiB of
 * garbage each). The parsed patterns are paused jobs that never run: their nextRuns and
 * previousRuns from a given time read only the pattern. At most PARSED_MAX are kept, the least
 * recently used going first.
 */
export const PARSED_MAX = 64;
const parsed = new Map<string, Cron>();
let parses = 0;

function parsedCron(spec: ScheduleSpec): Cron {
  const timezone = scheduleTimezone(spec);
  const key = `${timezone}\n${spec.schedule}`;
  let cron = parsed.get(key);
  if (cron) parsed.delete(key);
  else {
    cron = new Cron(spec.schedule, { timezone, paused: true });
    parses++;
  }
  parsed.set(key, cron);
  if (parsed.size > PARSED_MAX) parsed.delete(parsed.keys().next().value!);
  return cron;
}

/** How many schedules were parsed since the process started (for tests: a cache hit parses none). */
export function schedulesParsed(): number {
  return parses;
}

/** How many parsed schedules are kept (for tests). */
export function parsedScheduleCount(): number {
  return parsed.size;
}

/** The next `count` firing times strictly after `fromMs` (pure: no timers run). */
export function nextRunTimes(spec: ScheduleSpec, fromMs: number, count: number): Date[] {
  return parsedCron(spec).nextRuns(count, new Date(fromMs));
}

/** The scheduled time of a firing noticed at `firedAtMs`: the latest firing time not after it (timers run late, never early). */
export function scheduledRunAt(spec: ScheduleSpec, firedAtMs: number): number {
  return parsedCron(spec).previousRuns(1, new Date(firedAtMs + 1))[0]?.getTime() ?? firedAtMs;
}

/** The latest firing time at or before `atMs`; undefined when the schedule never fired before it. */
export function latestRunAt(spec: ScheduleSpec, atMs: number): number | undefined {
  return parsedCron(spec).previousRuns(1, new Date(atMs + 1))[0]?.getTime();
}
