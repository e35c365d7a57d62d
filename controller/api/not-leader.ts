// Agent calls and session triggers on a controller replica that is not the leader (Kubernetes
// mode): sessions are created and assigned only by the Lease holder (the header of
// controller/store/resource-store.ts), so the agent protocol and LEADER_ONLY_ADMIN_ROUTES answer
// 503 SIDESTASH_NOT_LEADER (retryable), Retry-After 1, and close the connection, so that the
// caller's next call opens a new one, which the Service may send to another replica (a
// kept-alive connection would stay on this one).
import type { ServerResponse } from 'node:http';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';

export const NOT_LEADER_RETRY_AFTER_S = 1;

/**
 * Admin routes that only the leader serves (route names): a trigger creates a session, and the
 * check that a configuration has no Pending or Running session (no overlap) holds only within
 * the one process that creates sessions, as the scheduler's runs do. The CLI calls again
 * (cli/api-client.ts), so `sidestash backup trigger` through the Service reaches the leader.
 */
export const LEADER_ONLY_ADMIN_ROUTES: ReadonlySet<string> = new Set(['/api/v1/backupconfigurations/:name/trigger']);

export function notLeader(holder: string, served = 'agents are served by the leader'): SidestashError {
  const who = holder ? `the leader is ${holder}` : 'no leader is elected yet';
  return new SidestashError(ErrorCodes.NOT_LEADER, `this controller replica does not lead (${who}); ${served}: call again`, { retryable: true, details: { status: 503 } });
}

/** The headers of a NOT_LEADER answer (set before sendError). */
export function setNotLeaderHeaders(res: ServerResponse): void {
  res.setHeader('retry-after', String(NOT_LEADER_RETRY_AFTER_S));
  res.setHeader('connection', 'close');
}
