// What a finished BackupSession leaves on its BackupConfiguration's status: the newest finished
// phase (Succeeded, Failed or Cancelled), session and duration, the last success time and the
// failures since (a cancelled session is not one). These live on the
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
  if (phase !== 'Succeeded' && phase !== 'Failed' && phase !== 'Cancelled') return out;
  out.lastFinishedPhase = phase;
  out.lastFinishedSession = session.name;
  out.lastDurationSeconds = session.status.durationSeconds ?? 0;
  if (phase === 'Succeeded') {
    // Never back in time: a backup an agent ran offline may be recorded after a newer one.
    const at = session.status.finishedAt;
    if (at !== undefined && !(out.lastSuccessTime !== undefined && isLater(out.lastSuccessTime, at))) out.lastSuccessTime = at;
    out.consecutiveFailures = 0;
    if (session.status.suspiciousShrink) out.suspiciousShrink = session.status.suspiciousShrink;
    else delete out.suspiciousShrink;
  } else if (phase === 'Failed') {
    out.consecutiveFailures = (out.consecutiveFailures ?? 0) + 1;
  }
  // Cancelled (stopped on request) is neither: the last success and the failure count stay.
  return out;
}

/** Whether time `a` is after `b` (RFC 3339; as text when either does not parse). */
function isLater(a: string, b: string): boolean {
  const [x, y] = [Date.parse(a), Date.parse(b)];
  return Number.isFinite(x) && Number.isFinite(y) ? x > y : a > b;
}
