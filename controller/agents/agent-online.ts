// The one rule for "this agent is online": it reported within the session lease. /metrics, the
// agents listing, the pending timeout and the Pending reasons all ask this.
import type { AgentRecord } from '../store/store.ts';

export function isAgentOnline(agent: Pick<AgentRecord, 'lastSeenAt'>, nowMs: number, leaseMs: number): boolean {
  return nowMs - Date.parse(agent.lastSeenAt) < leaseMs;
}
