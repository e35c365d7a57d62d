// Why Pending sessions wait, for listings: each Pending session among `items` gets
// status.reason and status.message (pending-reason.ts), computed from the store now; nothing is
// written (a write would make every listing a write).
import type { BackupSessionSpec, Resource, RestoreSessionSpec, SessionStatus } from '../resources/types.ts';
import type { AgentDirectory } from '../store/agent-directory.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { claimQueue } from './claim-queue.ts';
import { sessionTarget } from './invoker-of.ts';
import { pendingReason } from './pending-reason.ts';

type Session = Resource<BackupSessionSpec | RestoreSessionSpec, SessionStatus>;
type SessionKind = 'BackupSession' | 'RestoreSession';

const isSession = (r: Resource): boolean => r.kind === 'BackupSession' || r.kind === 'RestoreSession';

export async function withPendingReasons<T extends Resource>(items: readonly T[], ctx: { store: ResourceStore; agents: AgentDirectory; nowMs: number; onlineMs: number }): Promise<T[]> {
  if (!items.some((r) => isSession(r) && (r.status as SessionStatus | undefined)?.phase === 'Pending')) return [...items];
  const { store } = ctx;
  const agents = ctx.agents.listAgents();
  const all = [...(await store.list<BackupSessionSpec, SessionStatus>('BackupSession')), ...(await store.list<RestoreSessionSpec, SessionStatus>('RestoreSession'))] as Session[];
  const refOf = (s: Session) => ({ kind: s.kind as SessionKind, namespace: s.metadata.namespace, name: s.metadata.name });
  const running = all.filter((s) => s.status?.phase === 'Running' && s.status.agent !== undefined).map((s) => ({ ...refOf(s), agent: s.status!.agent! }));
  const pending = await Promise.all(claimQueue(all).map(async (s) => ({ s, target: await sessionTarget(store, s) })));
  const out: T[] = [];
  for (const r of items) {
    const s = r as unknown as Session;
    if (!isSession(r) || s.status?.phase !== 'Pending') {
      out.push(r);
      continue;
    }
    const appBinding = await sessionTarget(store, s);
    const mine = pending.findIndex((p) => p.s.kind === s.kind && p.s.metadata.namespace === s.metadata.namespace && p.s.metadata.name === s.metadata.name);
    const ahead = pending.slice(0, Math.max(mine, 0)).filter((p) => p.target !== undefined && p.target === appBinding && p.s.metadata.namespace === s.metadata.namespace).map((p) => refOf(p.s));
    const why = pendingReason({
      target: appBinding === undefined ? undefined : `${s.metadata.namespace}/${appBinding}`,
      ...(appBinding === undefined ? { missing: `BackupConfiguration ${s.metadata.namespace}/${(s.spec as BackupSessionSpec).invoker.name}` } : {}),
      agents, running, ahead, nowMs: ctx.nowMs, onlineMs: ctx.onlineMs,
    });
    out.push({ ...r, status: { ...s.status, reason: why.reason, message: why.message } });
  }
  return out;
}
