// The age of the oldest Pending and of the oldest Running session of each kind (pure), for the
// stuck-session alerts. A Pending session's age counts from its creation, a Running one's from
// its start (claimed by an agent). 0 when there is none.
import type { Resource, SessionStatus } from '../resources/types.ts';

export const SESSION_KINDS = ['BackupSession', 'RestoreSession'] as const;
export const WAITING_PHASES = ['Pending', 'Running'] as const;

export type OldestAges = Record<(typeof SESSION_KINDS)[number], Record<(typeof WAITING_PHASES)[number], number>>;

export function oldestSessionAges(sessions: readonly Pick<Resource<unknown, SessionStatus>, 'kind' | 'metadata' | 'status'>[], nowMs: number): OldestAges {
  const out: OldestAges = { BackupSession: { Pending: 0, Running: 0 }, RestoreSession: { Pending: 0, Running: 0 } };
  for (const s of sessions) {
    if (s.kind !== 'BackupSession' && s.kind !== 'RestoreSession') continue;
    const phase = s.status?.phase ?? 'Pending';
    if (phase !== 'Pending' && phase !== 'Running') continue;
    const since = Date.parse((phase === 'Running' ? s.status?.startedAt : undefined) ?? s.metadata.creationTimestamp ?? '');
    if (!Number.isFinite(since)) continue;
    const age = Math.max(0, (nowMs - since) / 1000);
    if (age > out[s.kind][phase]) out[s.kind][phase] = age;
  }
  return out;
}
