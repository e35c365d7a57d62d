// What a finished BackupSession leaves on its BackupConfiguration's status: the newest finished
// phase, session and duration, the last success time and the failures since. These live on the
// configuration, not in session history, so that pruning old sessions loses none of it (the
// controller's /metrics and alerts read them).
import type { BackupConfigurationStatus, SessionStatus } from '../resources/types.ts';

export interface FinishedSession {
  name: string;
  status: Pick<SessionStatus, 'phase' | 'finishedAt' | 'durationSeconds' | 'suspiciousShrink'>;
}

/** The configuration's status after `session` reached a terminal phase; unchanged for any other phase. */
export function configurationStatusAfter(status: BackupConfigurationStatus | undefined, session: FinishedSession): BackupConfigurationStatus {
  const out: BackupConfigurationStatus = { ...(status ?? {}) };
  const phase = session.status.phase;
  if (phase !== 'Succeeded' && phase !== 'Failed') return out;
  out.lastFinishedPhase = phase;
  out.lastFinishedSession = session.name;
  out.lastDurationSeconds = session.status.durationSeconds ?? 0;
  if (phase === 'Succeeded') {
    if (session.status.finishedAt !== undefined) out.lastSuccessTime = session.status.finishedAt;
    out.consecutiveFailures = 0;
    if (session.status.suspiciousShrink) out.suspiciousShrink = session.status.suspiciousShrink;
    else delete out.suspiciousShrink;
  } else {
    out.consecutiveFailures = (out.consecutiveFailures ?? 0) + 1;
  }
  return out;
}
