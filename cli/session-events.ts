// describe's "Events", derived from stored sessions (no event store): a session was created,
// started on an agent, succeeded or failed, and applied retention. Pure, tested on tables.
import { bytes } from './format.ts';

export interface SessionLike {
  kind?: string;
  metadata: { name: string; creationTimestamp?: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export interface DerivedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  time: string;
  object: string;
  message: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** The events of one session, oldest first. */
export function sessionEvents(s: SessionLike): DerivedEvent[] {
  const st = obj(s.status);
  const object = `${(s.kind ?? 'session').toLowerCase()}/${s.metadata.name}`;
  const out: DerivedEvent[] = [];
  const created = s.metadata.creationTimestamp;
  const trigger = str(obj(s.spec).trigger);
  if (created) out.push({ type: 'Normal', reason: 'Created', time: created, object, message: trigger ? `${trigger} trigger` : 'session created' });
  const started = str(st.startedAt);
  if (started) out.push({ type: 'Normal', reason: 'Started', time: started, object, message: `on agent ${str(st.agent) ?? '?'}` });
  const finished = str(st.finishedAt);
  const phase = str(st.phase);
  if (finished && phase === 'Succeeded') {
    const size = num(st.bytesRead);
    const snap = str(st.snapshotId);
    out.push({ type: 'Normal', reason: 'Succeeded', time: finished, object, message: [snap ? `snapshot ${snap.slice(0, 8)}` : undefined, size !== undefined ? bytes(size) : undefined, num(st.durationSeconds) !== undefined ? `in ${num(st.durationSeconds)!.toFixed(1)}s` : undefined].filter(Boolean).join(', ') || 'succeeded' });
  } else if (finished && phase) {
    const e = obj(st.error);
    out.push({ type: 'Warning', reason: phase, time: finished, object, message: `${str(e.code) ?? ''}${str(e.code) && str(e.message) ? ': ' : ''}${str(e.message) ?? ''}` || phase.toLowerCase() });
  }
  const r = obj(st.retention);
  if (finished && (num(r.kept) !== undefined || str(r.error))) {
    out.push(str(r.error)
      ? { type: 'Warning', reason: 'RetentionFailed', time: finished, object, message: str(r.error)! }
      : { type: 'Normal', reason: 'RetentionApplied', time: finished, object, message: `kept ${num(r.kept) ?? 0}, removed ${num(r.removed) ?? 0} snapshot(s)${r.pruned === true ? ', pruned' : ''}` });
  }
  if (st.suspiciousShrink && finished) out.push({ type: 'Warning', reason: 'SuspiciousShrink', time: finished, object, message: 'the dump is far smaller than the previous one; retention skipped' });
  const integrity = obj(st.integrity);
  if (integrity.ok === false) out.push({ type: 'Warning', reason: 'IntegrityCheckFailed', time: str(integrity.checkedAt) ?? finished ?? created ?? '', object, message: 'repository check failed' });
  return out;
}

/** The newest `limit` events of several sessions, oldest first (as kubectl describe lists them). */
export function recentEvents(sessions: SessionLike[], limit = 20): DerivedEvent[] {
  return sessions
    .flatMap(sessionEvents)
    .filter((e) => !Number.isNaN(Date.parse(e.time)))
    .sort((a, b) => Date.parse(a.time) - Date.parse(b.time))
    .slice(-limit);
}
