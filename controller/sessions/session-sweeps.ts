// The periodic sweeps of the session manager: Running sessions whose lease expired fail
// (AGENT_LOST; never within a lease of the controller's start), ones past their deadline are asked to stop and then failed (SESSION_TIMEOUT);
// Pending sessions that no online agent serves fail after the pending timeout (NO_AGENT,
// pending-outcome.ts). Each decision is made on the session as just read and written with its
// version: a report that renewed the lease meanwhile wins, and the session is decided again.
import { ErrorCodes } from '../../common/errors.ts';
import type { BackupSessionSpec } from '../resources/types.ts';
import { isAgentOnline } from '../agents/agent-online.ts';
import { sessionTarget } from './invoker-of.ts';
import { pendingOutcome } from './pending-outcome.ts';
import { loopYielder } from '../loop-yield.ts';
import type { SessionManager } from './session-manager.ts';

type Host = Pick<SessionManager, 'store' | 'leaseMs' | 'graceMs' | 'pendingTimeoutMs' | 'servedAt' | 'watchingSinceMs' | 'sessionsOf' | 'withSession' | 'finish' | 'requestCancel'>;

export async function sweepRunning(m: Host, now: number): Promise<void> {
  for (const kind of ['BackupSession', 'RestoreSession'] as const) {
    const pause = loopYielder();
    for (const s of await m.sessionsOf(kind, { phases: ['Running'] })) {
      await pause();
      await m.withSession(kind, s.metadata.namespace, s.metadata.name, async (cur) => {
        if (cur?.status?.phase !== 'Running') return;
        const st = cur.status;
        // A lease runs out no sooner than a whole lease after this controller started watching: an
        // agent that could not report while no controller ran gets that long to (like Pending's timeout).
        if (st.leaseExpiresAt && Math.max(Date.parse(st.leaseExpiresAt), m.watchingSinceMs + m.leaseMs) < now) {
          await m.finish(cur, { phase: 'Failed', error: { code: ErrorCodes.AGENT_LOST, message: `agent ${st.agent ?? '?'} stopped reporting (lease expired at ${st.leaseExpiresAt})` } });
        } else if (st.deadline && Date.parse(st.deadline) < now) {
          if (Date.parse(st.deadline) + m.graceMs < now) {
            await m.finish(cur, { phase: 'Failed', error: { code: ErrorCodes.SESSION_TIMEOUT, message: `session did not finish before its deadline ${st.deadline}` } });
          } else if (!st.cancelRequested) {
            await m.requestCancel(cur, 'timeout');
          }
        }
      });
    }
  }
}

export async function sweepPending(m: Host, now: number): Promise<void> {
  const agents = m.store.listAgents();
  for (const a of agents) if (isAgentOnline(a, now, m.leaseMs)) for (const t of a.targets) m.servedAt.set(t, now);
  for (const kind of ['BackupSession', 'RestoreSession'] as const) {
    const pause = loopYielder();
    for (const s of await m.sessionsOf(kind, { phases: ['Pending'] })) {
      await pause();
      const appBinding = await sessionTarget(m.store, s);
      const target = appBinding === undefined ? undefined : `${s.metadata.namespace}/${appBinding}`;
      const createdAtMs = Date.parse(s.metadata.creationTimestamp ?? '');
      const outcomeWith = (online: typeof agents): ReturnType<typeof pendingOutcome> => {
        const remembered = target === undefined ? undefined : m.servedAt.get(target);
        return pendingOutcome({
          target, createdAtMs: Number.isFinite(createdAtMs) ? createdAtMs : 0, watchingSinceMs: m.watchingSinceMs, agents: online, nowMs: now, onlineMs: m.leaseMs, timeoutMs: m.pendingTimeoutMs,
          ...(remembered === undefined ? {} : { rememberedServedAtMs: remembered }),
          ...(target === undefined ? { missing: `BackupConfiguration ${s.metadata.namespace}/${(s.spec as BackupSessionSpec).invoker.name}` } : {}),
        });
      };
      if (outcomeWith(agents).action !== 'fail') continue;
      await m.withSession(kind, s.metadata.namespace, s.metadata.name, async (cur) => {
        if (cur?.status?.phase !== 'Pending') return;
        // Decided again on the agents as they are now: the sweep yields between sessions, and an
        // agent that registered or reported since its first read serves this session.
        const outcome = outcomeWith(m.store.listAgents());
        if (outcome.action === 'fail') await m.finish(cur, { phase: 'Failed', error: outcome.error });
      });
    }
  }
}
