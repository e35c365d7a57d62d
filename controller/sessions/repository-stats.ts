// Keeps a Repository's size, snapshot count and last backup on its status, for `get` and
// `describe`: set from each successful BackupSession of a configuration that writes to it (the
// agent measures the repository after the backup and its retention). Changes made to the
// repository outside the controller (restic forget, `sidestash repo forget`) show at the next
// backup.
import type { BackupSessionSpec, RepositoryStatus, Resource, SessionStatus } from '../resources/types.ts';
import type { Store } from '../store/store.ts';
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

/** Records a Succeeded BackupSession on its configuration's Repository (in the caller's transaction). */
export function recordRepositoryBackup(store: Store, session: Resource<BackupSessionSpec, SessionStatus>): void {
  if (session.status?.phase !== 'Succeeded' || !session.status.finishedAt) return;
  const cfg = configurationOf(store, session);
  const repo = cfg && store.get<unknown, RepositoryStatus & RepositoryBackupStats>('Repository', session.metadata.namespace, cfg.spec.repository.name);
  if (!repo) return;
  store.put({ ...repo, status: repositoryStatusAfterBackup(repo.status, session.metadata.name, session.status, session.status.finishedAt) });
}
