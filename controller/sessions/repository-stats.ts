// Keeps a Repository's size, snapshot count and last backup on its status, for `get` and
// `describe`: set from each successful BackupSession of a configuration that writes to it (the
// agent measures the repository after the backup and its retention). Changes made to the
// repository outside the controller (restic forget, `sidestash repo forget`) show at the next
// backup.
import type { BackupSessionSpec, RepositoryStatus, Resource, SessionStatus } from '../resources/types.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { retryOnConflict } from '../store/retry-on-conflict.ts';
import { configurationOf } from './invoker-of.ts';

export interface RepositoryBackupStats {
  sizeBytes?: number;
  snapshotCount?: number;
  lastBackupTime?: string;
  lastBackupSession?: string;
}

/** The Repository status after a successful backup `session` that finished at `finishedAt`. */
export function repositoryStatusAfterBackup(current: (RepositoryStatus & RepositoryBackupStats) | undefined, session: string, status: SessionStatus, finishedAt: string): RepositoryStatus & RepositoryBackupStats {
  const next: RepositoryStatus & RepositoryBackupStats = { ...(current ?? {}), lastBackupTime: finishedAt, lastBackupSession: session };
  if (status.repositoryStats) {
    next.sizeBytes = status.repositoryStats.sizeBytes;
    next.snapshotCount = status.repositoryStats.snapshotCount;
  }
  return next;
}

/** Records a Succeeded BackupSession on its configuration's Repository (a status write, retried on conflict; `durability`: resource-store.ts). */
export async function recordRepositoryBackup(store: ResourceStore, session: Resource<BackupSessionSpec, SessionStatus>, durability?: 'relaxed'): Promise<void> {
  const st = session.status;
  if (st?.phase !== 'Succeeded' || !st.finishedAt) return;
  await retryOnConflict(async () => {
    const cfg = await configurationOf(store, session);
    const repo = cfg && (await store.get<unknown, RepositoryStatus & RepositoryBackupStats>('Repository', session.metadata.namespace, cfg.spec.repository.name));
    if (!repo) return;
    await store.updateStatus({ ...repo, status: repositoryStatusAfterBackup(repo.status, session.metadata.name, st, st.finishedAt!) }, { ifVersion: repo.metadata.resourceVersion!, ...(durability ? { durability } : {}) });
  });
}
