// The Events a session's life gives `kubectl describe` (Kubernetes mode): on the session and,
// for a BackupSession, on its BackupConfiguration. The rule is pure (sessionEvents), tested on a
// table; recordSessionEvents wires it to the session manager and the event recorder, which never
// blocks (event-recorder.ts): a lost Event never holds up a session.
import { ErrorCodes, errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { Resource, SessionStatus } from '../resources/types.ts';
import { configurationOf } from '../sessions/invoker-of.ts';
import type { Session, SessionManager } from '../sessions/session-manager.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import type { EventRecorder, EventType, InvolvedObject } from './event-recorder.ts';
import { humanBytes } from '../../common/human-bytes.ts';

export const SIDESTASH_API_VERSION = 'sidestash.io/v1';

export interface SessionEvent {
  on: 'session' | 'configuration';
  type: EventType;
  reason: string;
  message: string;
}

const size = (bytes: number | undefined): string => (bytes === undefined ? '' : humanBytes(bytes));

/** The Events of one transition of session `s` (its status as stored after the transition). */
export function sessionEvents(transition: 'started' | 'finished', s: Pick<Session, 'kind' | 'metadata'> & { status?: SessionStatus }): SessionEvent[] {
  const st = s.status;
  const what = `${s.kind} ${s.metadata.name}`;
  const backup = s.kind === 'BackupSession';
  const both = (type: EventType, reason: string, message: string, configReason = `Session${reason}`): SessionEvent[] => [
    { on: 'session', type, reason, message },
    ...(backup ? [{ on: 'configuration' as const, type, reason: configReason, message: `${what}: ${message}` }] : []),
  ];
  if (transition === 'started') return both('Normal', 'Started', `${backup ? 'backup' : 'restore'} started by agent ${st?.agent ?? '?'}`);
  switch (st?.phase) {
    case 'Succeeded': {
      const out = both('Normal', 'Succeeded', [`${backup ? 'backed up' : 'restored'}`, st.snapshotId ? `snapshot ${st.snapshotId.slice(0, 8)}` : '', st.bytesStored !== undefined && backup ? `${size(st.bytesStored)} stored` : '', st.durationSeconds !== undefined ? `in ${Math.round(st.durationSeconds)}s` : ''].filter(Boolean).join(', '));
      if (st.retention?.error) out.push(...both('Warning', 'RetentionFailed', `retention policy not applied: ${st.retention.error}`, 'RetentionFailed'));
      else if (st.retention) out.push(...both('Normal', 'RetentionApplied', `retention policy applied: kept ${st.retention.kept}, removed ${st.retention.removed} snapshot(s)${st.retention.pruned ? ', pruned' : ''}`, 'RetentionApplied'));
      if (st.suspiciousShrink) out.push(...both('Warning', 'SuspiciousShrink', 'the dump was far smaller than the previous one: stored, retention skipped', 'SuspiciousShrink'));
      return out;
    }
    case 'Cancelled':
      return both('Normal', 'Cancelled', `cancelled${st.cancelReason ? ` (${st.cancelReason})` : ''}${st.error?.message ? `: ${st.error.message}` : ''}`);
    case 'Failed': {
      const code = st.error?.code ?? 'SIDESTASH_INTERNAL';
      if (code === ErrorCodes.NO_AGENT) return both('Warning', 'NoAgent', `${code}: ${st.error?.message ?? 'no agent serves the target'}`);
      return both('Warning', 'Failed', `${code}: ${st.error?.message ?? 'failed'}`);
    }
    default:
      return [];
  }
}

const involved = (r: Resource<unknown, unknown>): InvolvedObject => ({
  apiVersion: SIDESTASH_API_VERSION, kind: r.kind,
  metadata: { name: r.metadata.name, namespace: r.metadata.namespace, ...(r.metadata.uid ? { uid: r.metadata.uid } : {}) },
});

/** Records the Events of every session start and end; never throws, never waits. */
export function recordSessionEvents(sessions: SessionManager, store: ResourceStore, recorder: EventRecorder, log: Logger): void {
  const record = (transition: 'started' | 'finished', s: Session): void => {
    void (async () => {
      const events = sessionEvents(transition, s);
      const cfg = events.some((e) => e.on === 'configuration') ? await configurationOf(store, s) : undefined;
      for (const e of events) {
        if (e.on === 'session') recorder.record(involved(s), e.type, e.reason, e.message);
        else if (cfg) recorder.record(involved(cfg), e.type, e.reason, e.message);
      }
    })().catch((err: unknown) => log.warn('session events not recorded', { session: `${s.metadata.namespace}/${s.metadata.name}`, err: errorMessage(err) }));
  };
  sessions.on('started', (s) => record('started', s));
  sessions.on('finished', (s) => record('finished', s));
}
