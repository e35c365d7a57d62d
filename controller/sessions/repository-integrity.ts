// Records a backup session's repository check on its Repository's status: the newest result,
// and when pack data was last read (the read-data schedule, integrity-plan.ts). A failure is
// kept until a check that could have found it passes: any check clears a metadata failure
// (every check reads all metadata), only a check of all the data clears a failure found by
// reading data (a passing random 5% may simply have missed the damaged pack).
import type { IntegrityResult } from '../../common/protocol.ts';
import { parseReadDataSubset } from '../../common/repository/read-data-subset.ts';
import type { BackupConfigurationSpec, BackupSessionSpec, RepositoryStatus, Resource } from '../resources/types.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { retryOnConflict } from '../store/retry-on-conflict.ts';

function readsAllData(subset: string | undefined): boolean {
  if (subset === undefined) return false;
  try {
    const s = parseReadDataSubset(subset);
    return s.kind === 'bucket' ? s.totalBuckets === 1 : s.percent === 100;
  } catch {
    return false;
  }
}

/** The Repository status after `result`, the check of `session` that finished at `nowIso`. */
export function repositoryStatusAfterCheck(current: RepositoryStatus | undefined, result: IntegrityResult, session: string, nowIso: string): RepositoryStatus {
  const next: RepositoryStatus = { ...(current ?? {}) };
  // The controller's clock, not the agent's: the schedule must not move with an agent's clock.
  if (result.readDataSubset !== undefined) next.lastReadDataCheckAt = nowIso;
  const prev = current?.integrity;
  const keepFailure = result.ok && prev?.ok === false && prev.readDataSubset !== undefined && !readsAllData(result.readDataSubset);
  if (!keepFailure) {
    next.integrity = { ok: result.ok, checkedAt: result.checkedAt, session, ...(result.readDataSubset !== undefined ? { readDataSubset: result.readDataSubset } : {}), ...(result.errors.length > 0 ? { errors: result.errors } : {}) };
  }
  return next;
}

/** A claimed session will read pack data of the Repository: others are not asked to meanwhile. */
export async function markReadDataCheckPending(store: ResourceStore, namespace: string, repository: string, session: string, nowIso: string): Promise<void> {
  await retryOnConflict(async () => {
    const repo = await store.get<unknown, RepositoryStatus>('Repository', namespace, repository);
    if (repo) await store.updateStatus({ ...repo, status: { ...(repo.status ?? {}), readDataCheckPending: { session, since: nowIso } } }, { ifVersion: repo.metadata.resourceVersion! });
  });
}

/**
 * A backup session ended, however: the read it was asked for, if any, is no longer pending. The
 * store finds the Repository that names it (its configuration's at the claim, which may have
 * changed since): every finish used to read every Repository of the namespace.
 */
export async function clearReadDataCheckPending(store: ResourceStore, namespace: string, session: string): Promise<void> {
  for (const listed of await store.list<unknown, RepositoryStatus>('Repository', { namespace, readDataCheckPendingSession: session })) {
    if (listed.status?.readDataCheckPending?.session !== session) continue;
    await retryOnConflict(async () => {
      const repo = await store.get<unknown, RepositoryStatus>('Repository', namespace, listed.metadata.name);
      if (repo?.status?.readDataCheckPending?.session !== session) return;
      const status = { ...repo.status };
      delete status.readDataCheckPending;
      await store.updateStatus({ ...repo, status }, { ifVersion: repo.metadata.resourceVersion! });
    });
  }
}

/** Stores the check of a finished BackupSession on the Repository of its configuration (`durability`: resource-store.ts). */
export async function recordRepositoryIntegrity(store: ResourceStore, session: Resource<BackupSessionSpec, unknown>, result: IntegrityResult, nowIso: string, durability?: 'relaxed'): Promise<void> {
  const ns = session.metadata.namespace;
  await retryOnConflict(async () => {
    const cfg = await store.get<BackupConfigurationSpec, unknown>('BackupConfiguration', ns, session.spec.invoker.name);
    const repo = cfg && (await store.get<unknown, RepositoryStatus>('Repository', ns, cfg.spec.repository.name));
    if (!repo) return;
    await store.updateStatus({ ...repo, status: repositoryStatusAfterCheck(repo.status, result, session.metadata.name, nowIso) }, { ifVersion: repo.metadata.resourceVersion!, ...(durability ? { durability } : {}) });
  });
}
