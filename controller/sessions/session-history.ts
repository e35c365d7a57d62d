// Which finished sessions of a configuration go (backupHistoryLimit): all but the `limit` newest,
// newest by when they finished, then by creation (resource-order.ts). Pure.
import { isFinalPhase } from '../../common/protocol.ts';
import type { Resource, SessionStatus } from '../resources/types.ts';
import { newestFirst } from '../store/resource-order.ts';

export function sessionsBeyondHistory<S extends Resource<unknown, SessionStatus>>(sessions: readonly S[], limit: number): S[] {
  const finishedMs = (s: S): number => {
    const ms = Date.parse(s.status?.finishedAt ?? '');
    return Number.isFinite(ms) ? ms : 0;
  };
  return sessions
    .filter((s) => isFinalPhase(s.status?.phase))
    .sort((a, b) => finishedMs(b) - finishedMs(a) || newestFirst(a, b))
    .slice(Math.max(0, limit));
}
