// The claim queue: Pending sessions, oldest first (creation order, resource-order.ts). claimNext
// serves it in this order, and a Pending session's reason (pending-reasons.ts) names the ones
// ahead of it. Writing a Pending session (its missing references, say) does not move it.
import type { Resource, SessionStatus } from '../resources/types.ts';
import { byCreation } from '../store/resource-order.ts';

export function claimQueue<S extends Resource<unknown, SessionStatus>>(sessions: readonly S[]): S[] {
  return sessions.filter((s) => s.status?.phase === 'Pending').sort(byCreation);
}
