// Whether a schedule croner has read ever fires. croner takes a string with a colon after its
// first character as a date and time ("0:0 0 * * *" is 2000-01-01T00:00, long past), and a pattern
// whose days do not exist ("0 0 30 2 *") or whose year is gone has no firing time: either would be
// accepted and never back up, with nothing to say so.
import type { Cron } from 'croner';
import { SCHEDULE_FORMS } from './schedule-message.ts';

/** Why the parsed schedule never fires from `nowMs` on; undefined when it fires. */
export function scheduleFiringProblem(schedule: string, cron: Cron, nowMs: number): string | undefined {
  if (cron.getOnce() !== null) return `${JSON.stringify(schedule)} is not a cron expression: croner reads it as a date and time (a colon), which fires once at most; ${SCHEDULE_FORMS}`;
  if (cron.nextRuns(1, new Date(nowMs)).length === 0) return `${JSON.stringify(schedule)} never fires: no time after now matches it (a day that does not exist, or a year gone)`;
  return undefined;
}
