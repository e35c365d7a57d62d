// Scheduling storms spread (issue 15): many BackupConfigurations on the same cron minute would
// start their dumps, and hit a shared repository backend, in the same second. Each configuration's
// runs start a fixed delay after their scheduled time: a hash of its identity spread over
// [0, bound], the bound the controller's SIDESTASH_SCHEDULE_JITTER and at most a tenth of the
// schedule's period (an every-minute schedule waits at most 6 s). Fixed per configuration, so a
// configuration's runs stay evenly spaced; the session keeps the name of its scheduled time, so a
// run is still one run however late it starts (scheduled-name.ts).
import { createHash } from 'node:crypto';

export function scheduleJitterMs(identity: string, maxJitterMs: number, periodMs: number | undefined): number {
  const bound = Math.floor(Math.min(maxJitterMs, periodMs === undefined ? maxJitterMs : periodMs / 10));
  if (!(bound > 0)) return 0;
  const h = createHash('sha256').update(identity).digest().readUInt32BE(0);
  return h % (bound + 1);
}
