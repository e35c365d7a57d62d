// Why a Pending session waits, for its status (status.reason, status.message) and `get`:
// computed from store state whenever a session is read, so it is never stale and writes nothing
// (the claim queue, claim-queue.ts, is in creation order).
// In order: its target cannot be resolved; no agent serves the target; none of those is online
// (pending-outcome.ts then fails it after the pending timeout); every online one is busy with
// another session; an older Pending session of the same target goes first; else an online
// agent takes it at its next poll. (A paused BackupConfiguration holds nothing back: it only
// stops its schedule, so it is no reason for a session to wait.)
import type { AgentRecord } from '../store/agent-directory.ts';
import { isAgentOnline } from '../agents/agent-online.ts';

export type PendingReasonCode = 'TargetMissing' | 'NoAgent' | 'AgentOffline' | 'AgentBusy' | 'Queued' | 'WaitingForAgent';

export interface SessionRef {
  kind: 'BackupSession' | 'RestoreSession';
  namespace: string;
  name: string;
}

export interface PendingReasonInput {
  /** "namespace/appbinding"; undefined when the session's BackupConfiguration does not exist. */
  target: string | undefined;
  /** What cannot resolve the target (e.g. "BackupConfiguration default/nightly"). */
  missing?: string;
  agents: readonly Pick<AgentRecord, 'name' | 'targets' | 'lastSeenAt'>[];
  /** Running sessions and the agent each runs on. */
  running: readonly (SessionRef & { agent: string })[];
  /** Pending sessions of the same target that an agent claims before this one, oldest first. */
  ahead: readonly SessionRef[];
  nowMs: number;
  /** An agent is online while now - lastSeenAt < onlineMs (the session lease). */
  onlineMs: number;
}

export interface PendingReason {
  reason: PendingReasonCode;
  message: string;
}

const ref = (s: SessionRef): string => `${s.kind.toLowerCase()} ${s.namespace}/${s.name}`;

export function pendingReason(p: PendingReasonInput): PendingReason {
  if (p.target === undefined) return { reason: 'TargetMissing', message: `${p.missing ?? 'its target'} does not exist` };
  const serving = p.agents.filter((a) => a.targets.includes(p.target!));
  if (serving.length === 0) return { reason: 'NoAgent', message: `no agent serves ${p.target} (none has it in SIDESTASH_AGENT_TARGETS)` };
  const online = serving.filter((a) => isAgentOnline(a, p.nowMs, p.onlineMs));
  if (online.length === 0) return { reason: 'AgentOffline', message: `no online agent serves ${p.target} (${serving.map((a) => `agent ${a.name} last seen ${a.lastSeenAt}`).join(', ')})` };
  const busy = online.map((a) => ({ agent: a.name, session: p.running.find((r) => r.agent === a.name) }));
  if (busy.every((b) => b.session !== undefined)) {
    return { reason: 'AgentBusy', message: busy.map((b) => `agent ${b.agent} is busy with ${ref(b.session!)}`).join('; ') };
  }
  if (p.ahead.length > 0) return { reason: 'Queued', message: `queued behind ${ref(p.ahead[0]!)}${p.ahead.length > 1 ? ` and ${p.ahead.length - 1} more` : ''}` };
  const idle = busy.filter((b) => b.session === undefined).map((b) => b.agent);
  return { reason: 'WaitingForAgent', message: `waiting for agent ${idle.join(' or ')} to take it` };
}
