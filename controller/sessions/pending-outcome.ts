// Whether a Pending session has waited too long for an agent. A session waits while no ONLINE
// agent (one whose lastSeenAt lies within the lease, as on /metrics) serves its target, for at
// most the pending timeout (SIDESTASH_PENDING_TIMEOUT), counted from the session's creation or
// from the last time an online agent served its target, whichever is later (and never from
// before this controller process started: while the controller was down no agent could report,
// so a restart gives the agents the whole timeout to come back); then it fails with
// SIDESTASH_NO_AGENT, so that it neither hangs nor blocks its configuration's schedule.
//
// A busy agent that is online keeps its queue: it long-polls and reports progress, so it stays
// online, and the sessions waiting behind its current one are not failed however long that
// one runs (their own deadline starts only once they are claimed).
import { ErrorCodes } from '../../common/errors.ts';
import type { AgentRecord } from '../store/store.ts';
import { isAgentOnline } from '../agents/agent-online.ts';

export interface PendingInput {
  /** "namespace/appbinding"; undefined when the session's BackupConfiguration does not exist. */
  target: string | undefined;
  /** What cannot resolve the target, for the message (e.g. "BackupConfiguration default/nightly"). */
  missing?: string;
  createdAtMs: number;
  agents: readonly Pick<AgentRecord, 'name' | 'targets' | 'lastSeenAt'>[];
  /** The last time this process saw an online agent serving the target (survives an agent's deregistration). */
  rememberedServedAtMs?: number;
  /** When this controller process started watching (agents could not report before). */
  watchingSinceMs: number;
  nowMs: number;
  /** An agent is online while now - lastSeenAt < onlineMs (the session lease). */
  onlineMs: number;
  timeoutMs: number;
}

export type PendingOutcome =
  | { action: 'wait'; /** An online agent serves the target now. */ served: boolean }
  | { action: 'fail'; error: { code: typeof ErrorCodes.NO_AGENT; message: string } };

export function pendingOutcome(p: PendingInput): PendingOutcome {
  const serving = p.target === undefined ? [] : p.agents.filter((a) => a.targets.includes(p.target!));
  const seenMs = serving.map((a) => Date.parse(a.lastSeenAt)).filter((ms) => Number.isFinite(ms));
  if (serving.some((a) => isAgentOnline(a, p.nowMs, p.onlineMs))) return { action: 'wait', served: true };
  // An agent that has gone quiet served the target up to its last report.
  const since = Math.max(p.createdAtMs, p.watchingSinceMs, p.rememberedServedAtMs ?? -Infinity, ...seenMs);
  if (!(p.nowMs - since > p.timeoutMs)) return { action: 'wait', served: false };
  const waited = `${Math.round(p.timeoutMs / 1000)}s`;
  const message = p.target === undefined
    ? `no agent can serve this session: ${p.missing ?? 'its target'} does not exist (waited ${waited})`
    : serving.length === 0
      ? `no agent serves target ${p.target} (waited ${waited}; is an agent with SIDESTASH_AGENT_TARGETS including ${p.target} running and enrolled?)`
      : `no online agent serves target ${p.target} (waited ${waited}; ${serving.map((a) => `${a.name} last seen ${a.lastSeenAt}`).join(', ')})`;
  return { action: 'fail', error: { code: ErrorCodes.NO_AGENT, message } };
}
