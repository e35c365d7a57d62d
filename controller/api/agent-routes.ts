// The agent side of the API. Registration takes the bootstrap token and returns a per-agent
// token (stored hashed); every other call needs that agent token and may touch only the
// agent's own sessions.
import { randomBytes } from 'node:crypto';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { isFinalPhase } from '../../common/protocol.ts';
import type { AgentRegisterRequest, AgentRegistration, SessionProgress, SessionResult } from '../../common/protocol.ts';
import type { AgentRecord } from '../store/store.ts';
import type { Controller } from '../controller.ts';
import { bearer, decodeUtf8, readBody, sendJson, sha256, tokenMatches, unauthorized } from './http-util.ts';
import { route } from './router.ts';
import type { RequestContext, Route } from './router.ts';

const MAX_WAIT_MS = 30_000;
const TARGET_PATTERN = /^[a-z0-9][-a-z0-9.]*\/[a-z0-9][-a-z0-9.]*$/;

async function json<T>(ctx: RequestContext): Promise<T> {
  const text = decodeUtf8(await readBody(ctx.req));
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'request body must be JSON');
  }
}

function sessionKind(k: string): 'BackupSession' | 'RestoreSession' {
  if (k === 'BackupSession' || k === 'RestoreSession') return k;
  throw new SidestashError(ErrorCodes.NOT_FOUND, `unknown session kind ${JSON.stringify(k)}`);
}

export function agentRoutes(c: Controller): Route[] {
  const authAgent = (ctx: RequestContext): AgentRecord => {
    const agent = c.store.getAgent(ctx.params.agent!);
    if (!agent || !tokenMatches(bearer(ctx.req), agent.tokenSha256)) throw unauthorized('a valid agent token is required');
    c.store.touchAgent(agent.name, new Date().toISOString());
    return agent;
  };
  return [
    route('POST', '/api/v1/agents/register', async (ctx) => {
      if (!tokenMatches(bearer(ctx.req), sha256(c.config.agentBootstrapToken))) throw unauthorized('a valid agent bootstrap token is required');
      const r = await json<Partial<AgentRegisterRequest>>(ctx);
      const problems: string[] = [];
      if (typeof r.name !== 'string' || !/^[a-z0-9][-a-z0-9.]{0,252}$/.test(r.name)) problems.push('name: must be a lowercase DNS name');
      if (!Array.isArray(r.targets) || r.targets.length === 0 || !r.targets.every((t) => typeof t === 'string' && TARGET_PATTERN.test(t))) problems.push('targets: must be a non-empty list of "namespace/appbinding"');
      if (problems.length > 0) throw new SidestashError(ErrorCodes.VALIDATION_FAILED, problems.join('; '), { details: { errors: problems } });
      const token = randomBytes(32).toString('base64url');
      const now = new Date().toISOString();
      // Whatever an earlier process of this agent was running cannot finish any more.
      c.sessions.failSessionsOfAgent(r.name!, `agent ${r.name} restarted while the session was running`);
      c.store.putAgent({ name: r.name!, tokenSha256: sha256(token), targets: r.targets!, version: typeof r.version === 'string' ? r.version : 'unknown', registeredAt: now, lastSeenAt: now });
      const reply: AgentRegistration = { name: r.name!, token, heartbeatIntervalMs: Math.floor(c.config.leaseMs / 3), leaseMs: c.config.leaseMs };
      sendJson(ctx.res, 200, reply);
    }),
    route('POST', '/api/v1/agents/:agent/heartbeat', (ctx) => {
      authAgent(ctx);
      sendJson(ctx.res, 200, { ok: true });
    }),
    route('GET', '/api/v1/agents/:agent/sessions/next', async (ctx) => {
      const agent = authAgent(ctx);
      const waitMs = Math.min(MAX_WAIT_MS, Math.max(0, Number(ctx.query.get('waitMs') ?? 0) || 0));
      const deadline = Date.now() + waitMs;
      for (;;) {
        const assignment = c.sessions.claimNext(agent);
        if (assignment) {
          sendJson(ctx.res, 200, assignment);
          return;
        }
        if (Date.now() >= deadline || ctx.signal.aborted) break;
        await c.waitForChange(Math.min(1000, deadline - Date.now()), ctx.signal);
      }
      ctx.res.writeHead(204).end();
    }),
    route('POST', '/api/v1/agents/:agent/sessions/:kind/:namespace/:name/progress', async (ctx) => {
      const agent = authAgent(ctx);
      const p = await json<SessionProgress>(ctx);
      const nums = ['bytesDumped', 'bytesStored', 'rateBytesPerSecond'] as const;
      if (!nums.every((k) => typeof p[k] === 'number' && Number.isFinite(p[k]) && p[k] >= 0)) {
        throw new SidestashError(ErrorCodes.VALIDATION_FAILED, `progress needs non-negative numbers ${nums.join(', ')}`);
      }
      const progress: SessionProgress = { bytesDumped: p.bytesDumped, bytesStored: p.bytesStored, rateBytesPerSecond: p.rateBytesPerSecond };
      if (typeof p.estimatedTotalBytes === 'number') progress.estimatedTotalBytes = p.estimatedTotalBytes;
      if (typeof p.etaSeconds === 'number') progress.etaSeconds = p.etaSeconds;
      sendJson(ctx.res, 200, c.sessions.progress(sessionKind(ctx.params.kind!), ctx.params.namespace!, ctx.params.name!, agent.name, progress));
    }),
    route('POST', '/api/v1/agents/:agent/sessions/:kind/:namespace/:name/result', async (ctx) => {
      const agent = authAgent(ctx);
      const r = await json<SessionResult>(ctx);
      if (!isFinalPhase(r.phase)) throw new SidestashError(ErrorCodes.VALIDATION_FAILED, 'phase: must be Succeeded or Failed');
      const kind = sessionKind(ctx.params.kind!);
      const s = c.sessions.complete(kind, ctx.params.namespace!, ctx.params.name!, agent.name, r);
      sendJson(ctx.res, 200, { phase: (s.status as { phase: string }).phase });
    }),
  ];
}
