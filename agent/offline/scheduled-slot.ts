// The scheduled time a session's name stands for (common/scheduled-name.ts names scheduled
// BackupSessions `<configuration>-<unix seconds>`), so that the agent remembers which scheduled
// times it ran online and never runs them again offline. A name that is not exactly the
// scheduled name of that configuration and time (a manual session) stands for none.
import { scheduledSessionName } from '../../common/scheduled-name.ts';

export function scheduledSlotOf(configuration: string, sessionName: string): number | undefined {
  const m = /-(\d{1,12})$/.exec(sessionName);
  if (!m) return undefined;
  const ms = Number(m[1]) * 1000;
  return scheduledSessionName(configuration, ms) === sessionName ? ms : undefined;
}
