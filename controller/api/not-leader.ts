// Agent calls on a controller replica that is not the leader (Kubernetes mode): sessions are
// created and assigned only by the Lease holder (controller/store/resource-store.ts's header),
// so the agent protocol answers 503 SIDESTASH_NOT_LEADER (retryable), Retry-After 1, and closes
// the connection, so that the agent's next call opens a new one, which the Service may send to
// another replica (a kept-alive connection would stay on this one).
import type { ServerResponse } from 'node:http';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';

export const NOT_LEADER_RETRY_AFTER_S = 1;

export function notLeader(holder: string): SidestashError {
  const who = holder ? `the leader is ${holder}` : 'no leader is elected yet';
  return new SidestashError(ErrorCodes.NOT_LEADER, `this controller replica does not lead (${who}); agents are served by the leader: call again`, { retryable: true, details: { status: 503 } });
}

/** The headers of a NOT_LEADER answer (set before sendError). */
export function setNotLeaderHeaders(res: ServerResponse): void {
  res.setHeader('retry-after', String(NOT_LEADER_RETRY_AFTER_S));
  res.setHeader('connection', 'close');
}
