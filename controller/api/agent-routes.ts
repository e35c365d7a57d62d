// The agent side of the API (paths in common/agent-paths.ts). Registration takes an enrolment
// credential and returns a per-agent token (stored hashed); every other call needs that agent
// token and may touch only the agent's own sessions. Reports are type-checked, and a reported
// success is checked against the repository before it is recorded.
import { AGENT_ROUTES, agentKey } from '../../common/agent-paths.ts';
import { ErrorCodes, SidestashError, isSidestashError } from '../../common/errors.ts';
import type { Controller } from '../controller.ts';
import { parseProgress, parseResult } from '../agents/agent-reports.ts';
import { checkReportedResult } from '../agents/result-check.ts';
import { parseArchiveReports } from '../binlog/archive-reports.ts';
import { syncArchives } from '../binlog/archive-sync.ts';
import { offlinePlan } from '../offline/offline-plan.ts';
import { parseOfflineReport } from '../offline/offline-report.ts';
import { recordOfflineSession } from '../offline/record-offline-session.ts';
import type { BackupSessionSpec, Resource, RestoreSessionSpec } from '../resources/types.ts';
import type { AgentRecord } from '../store/store.ts';
import { decodeUtf8, readBody, sendJson } from './http-util.ts';
import { markAgentConnection } from './listener-limits.ts';
import { AgentLongPolls } from './agent-long-polls.ts';
import { route } from './router.ts';
import { notLeader } from './not-leader.ts';
import type { RequestContext, Route } from './router.ts';

const MAX_WAIT_MS = 30_000;
const MAX_REPORT_BYTES = 64 * 1024;

async function json(ctx: RequestContext): Promise<unknown> {
  const text = decodeUtf8(await readBody(ctx.req, MAX_REPORT_BYTES));
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'request body must be JSON');
  }
}

function sessionKind(k: string): 'BackupSession' | 'RestoreSession' {
  if (k === 'BackupSession' || k === 'RestoreSession') return k;
  throw new SidestashError(ErrorCodes.NOT_FOUND, `unknown session kind ${JSON.stringify(k)}`);
}

export function agentRoutes(c: Controller): Route[] {
  /** mark: false for a request after which the connection is no longer the agent's (deregister). */
  const authAgent = (ctx: RequestContext, mark = true): AgentRecord => {
    const agent = c.agents.authenticate(ctx.req, ctx.params.agentNamespace!, ctx.params.agent!);
    if (mark) markAgentConnection(ctx.req, agent.name); // only now: the listener's cap protects agents' connections
    return agent;
  };
  const longPolls = new AgentLongPolls();
  return [
    route('POST', AGENT_ROUTES.register, async (ctx) => {
      const registered = await c.agents.register(ctx.req, () => json(ctx));
      markAgentConnection(ctx.req, agentKey(registered));
      sendJson(ctx.res, 200, registered);
    }),
    route('POST', AGENT_ROUTES.heartbeat, (ctx) => {
      authAgent(ctx);
      sendJson(ctx.res, 200, { ok: true });
    }),
    route('POST', AGENT_ROUTES.deregister, async (ctx) => {
      await c.agents.deregister(authAgent(ctx, false));
      sendJson(ctx.res, 200, { ok: true });
    }),
    route('GET', AGENT_ROUTES.next, async (ctx) => {
      const agent = authAgent(ctx);
      const waitMs = Math.min(MAX_WAIT_MS, Math.max(0, Number(ctx.query.get('waitMs') ?? 0) || 0));
      const deadline = Date.now() + waitMs;
      // A newer poll of this agent ends this one (agent-long-polls.ts); a poll so ended claims nothing.
      const poll = longPolls.start(agent.name);
      const signal = AbortSignal.any([ctx.signal, poll.signal]);
      try {
        for (;;) {
          // A replica that stopped leading while this poll waited assigns nothing (not-leader.ts).
          if (!c.isLeader) throw notLeader(c.kube?.elector.holder ?? '');
          if (poll.signal.aborted) break;
          const assignment = await c.sessions.claimNext(agent);
          if (assignment) {
            sendJson(ctx.res, 200, assignment);
            return;
          }
          if (Date.now() >= deadline || signal.aborted) break;
          await c.waitForChange(Math.min(1000, deadline - Date.now()), signal, agent.targets);
        }
      } finally {
        poll.done();
      }
      ctx.res.writeHead(204).end();
    }),
    route('POST', AGENT_ROUTES.progress, async (ctx) => {
      const agent = authAgent(ctx);
      const progress = parseProgress(await json(ctx));
      sendJson(ctx.res, 200, await c.sessions.progress(sessionKind(ctx.params.kind!), ctx.params.namespace!, ctx.params.name!, agent.name, progress));
    }),
    route('POST', AGENT_ROUTES.binlogArchives, async (ctx) => {
      const agent = authAgent(ctx);
      // Leases are the leader's to give (archive-lease.ts).
      if (!c.isLeader) throw notLeader(c.kube?.elector.holder ?? '');
      const reports = parseArchiveReports(await json(ctx));
      sendJson(ctx.res, 200, { archives: await syncArchives(c.store, agent, reports, c.config.leaseMs, c.log, Date.now, () => c.archivedConfigurations.list()) });
    }),
    route('GET', AGENT_ROUTES.offlinePlan, async (ctx) => {
      const agent = authAgent(ctx);
      sendJson(ctx.res, 200, await offlinePlan(c.store, agent, c.config.scheduleJitterMs, c.log));
    }),
    route('POST', AGENT_ROUTES.offlineSessions, async (ctx) => {
      const agent = authAgent(ctx);
      // Sessions are the leader's to create and finish.
      if (!c.isLeader) throw notLeader(c.kube?.elector.holder ?? '');
      const report = parseOfflineReport(await json(ctx));
      sendJson(ctx.res, 200, await recordOfflineSession(c.sessions, agent, report, ctx.signal, c.log));
    }),
    route('POST', AGENT_ROUTES.result, async (ctx) => {
      const agent = authAgent(ctx);
      const reported = parseResult(await json(ctx));
      const kind = sessionKind(ctx.params.kind!);
      const { namespace, name } = ctx.params as { namespace: string; name: string };
      // Refused before any repository access when the session is not this agent's, or not Running.
      const session = (await c.sessions.runningSession(kind, namespace, name, agent.name)) as Resource<BackupSessionSpec | RestoreSessionSpec, unknown>;
      let checked;
      try {
        checked = await checkReportedResult(c.store, session, reported, ctx.signal);
      } catch (err) {
        // The repository cannot be reached now: the agent sends the result again; keep its session alive meanwhile.
        if (isSidestashError(err) && err.retryable) await c.sessions.renewLease(kind, namespace, name, agent.name);
        throw err;
      }
      const s = await c.sessions.complete(kind, namespace, name, agent.name, checked.result);
      if (checked.rejected) {
        c.log.warn('agent result rejected', { agent: agent.name, session: `${namespace}/${name}`, kind, reason: checked.rejected.message });
        throw checked.rejected;
      }
      sendJson(ctx.res, 200, { phase: (s.status as { phase: string }).phase });
    }),
  ];
}
