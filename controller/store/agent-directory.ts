// Registered agents: a seam of their own, apart from the resource store (resource-store.ts).
// Only the sqlite store implements it today (its `agents` table); agents are not Stash
// resources and do not widen the resource interface.
export interface AgentRecord {
  name: string;
  tokenSha256: string;
  targets: string[];
  version: string;
  registeredAt: string;
  lastSeenAt: string;
}

export interface AgentDirectory {
  putAgent(a: AgentRecord): void;
  getAgent(name: string): AgentRecord | undefined;
  listAgents(): AgentRecord[];
  touchAgent(name: string, at: string): void;
}
