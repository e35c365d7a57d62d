// How far a session is, as a whole percent, for `kubectl get` and `sidestash get`: the bytes
// dumped (backup) or read (restore) of the agent's estimate. An estimate can be short (table
// statistics, a dump that grew), so a running session shows at most 99; 100 means Succeeded.
// Pure; the session manager stores the result in status.progress.percent.
import type { SessionProgress } from '../../common/protocol.ts';

export function runningPercent(p: Pick<SessionProgress, 'bytesDumped' | 'estimatedTotalBytes'>): number | undefined {
  const total = p.estimatedTotalBytes;
  if (total === undefined || !(total > 0) || !Number.isFinite(total) || !(p.bytesDumped >= 0)) return undefined;
  return Math.min(99, Math.floor((p.bytesDumped * 100) / total));
}
