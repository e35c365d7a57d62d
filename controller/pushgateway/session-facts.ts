// What the Pushgateway needs to know of a session, read from the store: its invoker, target
// AppBinding and Repository. Undefined when the invoker is gone (a deleted BackupConfiguration's
// groups are deleted, never pushed again).
import { configurationOf } from '../sessions/invoker-of.ts';
import type { AppBindingSpec, BackupSessionSpec, RepositorySpec, Resource, RestoreSessionSpec, SessionStatus } from '../resources/types.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import type { SessionFacts, SessionKind } from './stash-metrics.ts';

export type AnySession = Resource<BackupSessionSpec | RestoreSessionSpec, SessionStatus>;

export interface InvokerRef {
  kind: SessionKind;
  namespace: string;
  invokerName: string;
  targetName: string;
  repositoryName: string;
}

export async function invokerOf(store: ResourceStore, s: AnySession): Promise<InvokerRef | undefined> {
  const ns = s.metadata.namespace;
  if (s.kind === 'RestoreSession') {
    const spec = s.spec as RestoreSessionSpec;
    return { kind: 'RestoreSession', namespace: ns, invokerName: s.metadata.name, targetName: spec.target.ref.name, repositoryName: spec.repository.name };
  }
  const name = (s.spec as BackupSessionSpec).invoker.name;
  // A configuration recreated under the same name is not this session's.
  const cfg = await configurationOf(store, s);
  if (!cfg) return undefined;
  return { kind: 'BackupSession', namespace: ns, invokerName: name, targetName: cfg.spec.target.ref.name, repositoryName: cfg.spec.repository.name };
}

/** Stash's backend/bucket/prefix labels of a Repository (backend "unknown" when it is gone). */
export function repositoryFacts(spec: RepositorySpec | undefined, name: string, namespace: string): SessionFacts['repository'] {
  const b = spec?.backend;
  if (b?.s3) return { name, namespace, backend: 's3', bucket: b.s3.bucket, ...(b.s3.prefix ? { prefix: b.s3.prefix } : {}) };
  if (b?.rest) return { name, namespace, backend: 'rest' };
  if (b?.local) return { name, namespace, backend: 'local' };
  return { name, namespace, backend: 'unknown' };
}

const seconds = (iso: string | undefined): number | undefined => {
  const ms = iso ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(ms) ? ms / 1000 : undefined;
};

/** The facts of a finished session; undefined while it runs or when its invoker is gone. */
export async function sessionFacts(store: ResourceStore, s: AnySession): Promise<SessionFacts | undefined> {
  const st = s.status;
  if (st?.phase !== 'Succeeded' && st?.phase !== 'Failed' && st?.phase !== 'Cancelled') return undefined;
  const inv = await invokerOf(store, s);
  if (!inv) return undefined;
  const ns = s.metadata.namespace;
  const lastSuccess = inv.kind === 'BackupSession' ? (await store.get<unknown, { lastSuccessTime?: string }>('BackupConfiguration', ns, inv.invokerName))?.status?.lastSuccessTime : undefined;
  const repo = await store.get<RepositorySpec, unknown>('Repository', ns, inv.repositoryName);
  const app = await store.get<AppBindingSpec, unknown>('AppBinding', ns, inv.targetName);
  const finished = seconds(st.finishedAt) ?? Date.now() / 1000;
  // A backup an agent ran offline was created when the controller heard of it, after it ran: it took from its start.
  const offline = (s.spec as { trigger?: string } | undefined)?.trigger === 'offline';
  const created = (offline ? seconds(st.startedAt) : undefined) ?? seconds(s.metadata.creationTimestamp) ?? seconds(st.startedAt) ?? finished;
  const f: SessionFacts = {
    kind: inv.kind,
    namespace: ns,
    invokerName: inv.invokerName,
    repository: repositoryFacts(repo?.spec, inv.repositoryName, ns),
    target: { name: inv.targetName, ...(app?.spec.type ? { type: app.spec.type } : {}) },
    // Stash knows success and failure only: a cancelled session is not a success (*_success 0).
    phase: st.phase === 'Succeeded' ? 'Succeeded' : 'Failed',
    sessionSeconds: Math.max(0, finished - created),
    finishedAtSeconds: finished,
  };
  const lastSuccessAt = seconds(lastSuccess);
  if (lastSuccessAt !== undefined && st.phase !== 'Succeeded') f.lastSuccessAtSeconds = lastSuccessAt;
  if (st.durationSeconds !== undefined) f.hostSeconds = st.durationSeconds;
  if (st.processingSeconds !== undefined) f.processingSeconds = st.processingSeconds;
  if (st.bytesRead !== undefined) f.bytesRead = st.bytesRead;
  if (st.bytesStored !== undefined) f.bytesStored = st.bytesStored;
  if (st.files) f.files = st.files;
  if (st.retention) f.snapshotsRemoved = st.retention.removed;
  if (st.repositoryStats) f.repositoryStats = st.repositoryStats;
  const integrity = (st as { integrity?: { ok?: unknown } }).integrity;
  if (typeof integrity?.ok === 'boolean') f.integrityOk = integrity.ok;
  if (st.suspiciousShrink) f.suspiciousShrink = true;
  return f;
}
