// The agent protocol's HTTP paths, in one place for both sides: the controller builds its
// routes from AGENT_ROUTES, the agent its requests from agentPaths. An agent is identified by
// namespace and name (names are unique per namespace), so both appear in every agent path.
import { API_PREFIX } from './protocol.ts';

/** Route patterns (":param" segments) for the controller's router. */
export const AGENT_ROUTES = {
  register: `${API_PREFIX}/agents/register`,
  heartbeat: `${API_PREFIX}/agents/:agentNamespace/:agent/heartbeat`,
  deregister: `${API_PREFIX}/agents/:agentNamespace/:agent/deregister`,
  next: `${API_PREFIX}/agents/:agentNamespace/:agent/sessions/next`,
  progress: `${API_PREFIX}/agents/:agentNamespace/:agent/sessions/:kind/:namespace/:name/progress`,
  result: `${API_PREFIX}/agents/:agentNamespace/:agent/sessions/:kind/:namespace/:name/result`,
  binlogArchives: `${API_PREFIX}/agents/:agentNamespace/:agent/binlog-archives`,
  offlinePlan: `${API_PREFIX}/agents/:agentNamespace/:agent/offline-plan`,
  offlineSessions: `${API_PREFIX}/agents/:agentNamespace/:agent/offline-sessions`,
} as const;

/** Every agent route starts with this; all other API routes need the admin token. */
export const AGENT_ROUTE_PREFIX = `${API_PREFIX}/agents/`;

export interface AgentId {
  namespace: string;
  name: string;
}

export interface SessionRef {
  kind: 'BackupSession' | 'RestoreSession';
  namespace: string;
  name: string;
}

const seg = encodeURIComponent;
const agentBase = (a: AgentId): string => `${API_PREFIX}/agents/${seg(a.namespace)}/${seg(a.name)}`;
const sessionBase = (a: AgentId, s: SessionRef): string => `${agentBase(a)}/sessions/${s.kind}/${seg(s.namespace)}/${seg(s.name)}`;

/** Concrete request paths for the agent. */
export const agentPaths = {
  register: (): string => AGENT_ROUTES.register,
  heartbeat: (a: AgentId): string => `${agentBase(a)}/heartbeat`,
  deregister: (a: AgentId): string => `${agentBase(a)}/deregister`,
  next: (a: AgentId, waitMs: number): string => `${agentBase(a)}/sessions/next?waitMs=${Math.max(0, Math.floor(waitMs))}`,
  progress: (a: AgentId, s: SessionRef): string => `${sessionBase(a, s)}/progress`,
  result: (a: AgentId, s: SessionRef): string => `${sessionBase(a, s)}/result`,
  /** POST the agent's archive reports; the answer lists the archives it is to run. */
  binlogArchives: (a: AgentId): string => `${agentBase(a)}/binlog-archives`,
  /** GET what the agent may run on its own while the controller cannot be reached (offline-protocol.ts). */
  offlinePlan: (a: AgentId): string => `${agentBase(a)}/offline-plan`,
  /** POST one backup the agent ran on its own. */
  offlineSessions: (a: AgentId): string => `${agentBase(a)}/offline-sessions`,
};

/** "namespace/name", the agent's identity as the controller records it. */
export function agentKey(a: AgentId): string {
  return `${a.namespace}/${a.name}`;
}
