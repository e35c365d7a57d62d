// What a person reads when spec.schedule is not a cron expression: that it is not, why (in
// words, not croner's or a regular expression's), and the forms that are accepted.

export const SCHEDULE_FORMS =
  'accepted: five fields "MINUTE HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK" (e.g. "30 2 * * *" every day at 02:30, "*/15 * * * *" every 15 minutes, "0 3 * * 0" Sundays at 03:00), ' +
  'six fields with seconds first, seven with a year last, or one of @yearly, @annually, @monthly, @weekly, @daily, @hourly';

/** croner's complaint ("CronPattern: Invalid value for minute: 61") in plain words. */
function reason(croner: string | undefined, schedule: string): string {
  const fields = schedule.trim() === '' ? 0 : schedule.trim().split(/\s+/).length;
  if (schedule.trim().startsWith('@')) return `${JSON.stringify(schedule.trim())} is not a known shortcut`;
  if (fields < 5 || fields > 7) return `it has ${fields} field${fields === 1 ? '' : 's'}, not 5 to 7`;
  if (!croner) return 'it is not valid';
  const text = croner.replace(/^CronPattern:\s*/, '');
  const entry = /configuration entry (\d+) \(([^)]*)\) contains illegal characters/.exec(text);
  if (entry) return `field ${entry[1]} (${JSON.stringify(entry[2])}) holds characters a cron field cannot`;
  const value = /^Invalid value for (\w+): (.*)$/i.exec(text);
  if (value) return `${value[2]} is not a valid ${value[1]}`;
  return text.replace(/\.$/, '');
}

export function scheduleProblem(schedule: string, cronerMessage?: string): string {
  return `${JSON.stringify(schedule)} is not a cron expression: ${reason(cronerMessage, schedule)}; ${SCHEDULE_FORMS}`;
}
