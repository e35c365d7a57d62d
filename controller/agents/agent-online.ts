// The one rule for "this agent is online": it reported within the session lease. /metrics, the
// agents listing, the pending timeout and the Pending reasons all ask this.
import type { AgentRecord } from '../store/store.ts';

export function isAgentOnline(agent: Pick<AgentRecord, 'lastSeenAt'>, nowMs: number, leaseMs: number): boolean {
  return nowMs - Date.parse(agent.lastSeenAt) < leaseMs;
}

/**
 * Whether an authenticated call records the agent as seen now: when what is recorded is older
 * than a twelfth of the lease (at most 5 s). Every agent call wrote (and synced) the agent's row
 * before; a fleet's calls made that hundreds of durable writes a second for a time that only
 * needs to be right to within the lease. So the recorded time is at most that much behind.
 */
export function recordsSeen(agent: Pick<AgentRecord, 'lastSeenAt'>, nowMs: number, leaseMs: number): boolean {
  return !(nowMs - Date.parse(agent.lastSeenAt) < Math.min(5000, leaseMs / 12)) || nowMs < Date.parse(agent.lastSeenAt);
}
