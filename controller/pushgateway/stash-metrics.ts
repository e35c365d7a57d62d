// The metrics Stash v1 pushes for a finished session (stash.appscode.dev/apimachinery
// pkg/metrics), as a pure function of what the controller knows about the session. Each
// gauge goes out under Stash's legacy name (stash_backup_*, stash_restore_*,
// stash_repository_*) and under the name Stash added later (stash_appscode_com_*), with
// Stash's labels: session level (invoker, driver, repository), target level (+ kind, group,
// name of the AppBinding), host level (+ hostname), repository level (+ the Repository's
// name, namespace, backend, bucket, prefix). A failed session pushes only the *_success
// gauges (0), so that the group's last success time and sizes stay as they were.
// Differences from Stash (README "Metrics"): see the comments on each value below.

export type SessionKind = 'BackupSession' | 'RestoreSession';

export interface SessionFacts {
  kind: SessionKind;
  namespace: string;
  /** The BackupConfiguration's name, or the RestoreSession's own. */
  invokerName: string;
  repository: { name: string; namespace: string; backend: string; bucket?: string; prefix?: string };
  /** The AppBinding: its name and spec.type (e.g. "kubedb.com/mariadb" or "mariadb"). */
  target: { name: string; type?: string };
  phase: 'Succeeded' | 'Failed';
  /** From the session's creation (queue wait included) to its end. */
  sessionSeconds: number;
  /** The agent's run: from the assignment to the report. */
  hostSeconds?: number;
  /** Only dumping and storing (no probe, retention, statistics or check). */
  processingSeconds?: number;
  finishedAtSeconds: number;
  /** When the configuration's newest success finished (its status), also pushed with a failure. */
  lastSuccessAtSeconds?: number;
  bytesRead?: number;
  bytesStored?: number;
  files?: { new: number; modified: number; unmodified: number };
  snapshotsRemoved?: number;
  repositoryStats?: { sizeBytes: number; snapshotCount: number };
  /** The integrity check of this session, when one ran. */
  integrityOk?: boolean;
  suspiciousShrink?: boolean;
}

export interface Sample {
  name: string;
  help: string;
  labels: Record<string, string>;
  value: number;
}

export const STASH_HOSTNAME = 'host-0';
export const FINISHED_METRIC = 'sidestash_session_finished_timestamp_seconds';

/** Stash's job name: `<invoker kind>-<namespace>-<name>` in lower case. */
export function stashJobName(kind: SessionKind, namespace: string, invokerName: string): string {
  const invokerKind = kind === 'BackupSession' ? 'backupconfiguration' : 'restoresession';
  return `${invokerKind}-${namespace}-${invokerName}`.toLowerCase();
}

/** Stash's `kind` and `group` labels for an AppBinding: its spec.type split at the last "/". */
export function appLabels(type: string | undefined): { kind: string; group: string } {
  const t = (type ?? '').trim();
  if (!t) return { kind: 'mariadb', group: '' };
  const at = t.lastIndexOf('/');
  return at < 0 ? { kind: t.toLowerCase(), group: '' } : { kind: t.slice(at + 1).toLowerCase(), group: t.slice(0, at) };
}

export function sessionLabels(f: SessionFacts): Record<string, string> {
  return {
    invoker_kind: f.kind === 'BackupSession' ? 'BackupConfiguration' : 'RestoreSession',
    invoker_name: f.invokerName,
    namespace: f.namespace,
    driver: 'Restic',
    repository: f.repository.name,
  };
}

export function targetLabels(f: SessionFacts): Record<string, string> {
  return { ...sessionLabels(f), ...appLabels(f.target.type), name: f.target.name };
}

function repositoryLabels(f: SessionFacts): Record<string, string> {
  const r = f.repository;
  return { ...sessionLabels(f), name: r.name, namespace: r.namespace, backend: r.backend, ...(r.bucket ? { bucket: r.bucket } : {}), ...(r.prefix ? { prefix: r.prefix } : {}) };
}

type Emit = (legacy: string, current: string, help: string, labels: Record<string, string>, value: number) => void;

export function stashMetrics(f: SessionFacts): Sample[] {
  const out: Sample[] = [];
  const emit: Emit = (legacy, current, help, labels, value) => {
    out.push({ name: legacy, help, labels, value }, { name: current, help, labels, value });
  };
  // sidestash's own, in every group: when the session ended. The group's push_time_seconds is
  // when it was last pushed, which a re-push after a restart changes; this does not.
  out.push({ name: FINISHED_METRIC, help: 'When the session whose outcome this group holds ended (Unix time)', labels: sessionLabels(f), value: f.finishedAtSeconds });
  if (f.kind === 'BackupSession') backupMetrics(f, emit, out);
  else restoreMetrics(f, emit);
  return out;
}

function backupMetrics(f: SessionFacts, emit: Emit, out: Sample[]): void {
  const ok = f.phase === 'Succeeded' ? 1 : 0;
  const s = sessionLabels(f);
  const t = targetLabels(f);
  const h = { ...t, hostname: STASH_HOSTNAME };
  const g = (name: string): [string, string] => [`stash_backup_${name}`, `stash_appscode_com_backupsession_${name.replace(/^session_/, '')}`];
  emit(...g('session_success'), 'Indicates whether the entire backup session was succeeded or not', s, ok);
  emit(...g('target_success'), 'Indicates whether the backup for a target has succeeded or not', t, ok);
  emit(...g('host_backup_success'), 'Indicates whether the backup for a host succeeded or not', h, ok);
  if (!ok) {
    // Stash pushes nothing more. The group normally still holds the last success time; after
    // a Pushgateway restart it would not, and "time since the last success" would be absent
    // instead of large, so the configuration's own record of it goes along.
    if (f.lastSuccessAtSeconds !== undefined) {
      emit(...g('last_success_time_seconds'), 'Indicates the time (Unix epoch) when the last backup session succeeded', s, f.lastSuccessAtSeconds);
      emit(...g('target_last_success_time_seconds'), 'Indicates the time (Unix epoch) when the last backup of this target succeeded', t, f.lastSuccessAtSeconds);
    }
    return;
  }
  emit(...g('session_duration_seconds'), 'Indicates total time taken to complete the entire backup session', s, f.sessionSeconds);
  emit(...g('target_count_total'), 'Indicates the total number of target that was backed up in this backup session', s, 1);
  // Stash sets it to the push time; here it is when the session finished (a re-push keeps it).
  emit(...g('last_success_time_seconds'), 'Indicates the time (Unix epoch) when the last backup session succeeded', s, f.finishedAtSeconds);
  emit(...g('target_host_count_total'), 'Indicates the total number of hosts that was backed up for this target', t, 1);
  emit(...g('target_last_success_time_seconds'), 'Indicates the time (Unix epoch) when the last backup of this target succeeded', t, f.finishedAtSeconds);
  emit(...g('host_backup_duration_seconds'), 'Indicates total time taken to complete the backup process for a host', h, f.hostSeconds ?? f.sessionSeconds);
  emit(...g('host_data_size_bytes'), 'Total size of the target data to backup for a host (in bytes): the dump', h, f.bytesRead ?? 0);
  emit(...g('host_data_uploaded_bytes'), 'Amount of data uploaded to the repository for a host (in bytes)', h, f.bytesStored ?? 0);
  emit(...g('host_data_processing_time_seconds'), 'Total time taken to process the target data for a host: dumping and storing', h, f.processingSeconds ?? f.hostSeconds ?? f.sessionSeconds);
  const files = f.files ?? { new: 1, modified: 0, unmodified: 0 };
  emit(...g('host_files_total'), 'Total number of files that has been backed up for a host', h, files.new + files.modified + files.unmodified);
  emit(...g('host_files_new'), 'Total number of new files that has been created since last backup for a host', h, files.new);
  emit(...g('host_files_modified'), 'Total number of files that has been modified since last backup for a host', h, files.modified);
  emit(...g('host_files_unmodified'), 'Total number of files that has not been changed since last backup for a host', h, files.unmodified);
  // sidestash's own, in the same group: the shrink guard flagged this dump (stored; retention skipped).
  out.push({ name: 'sidestash_backup_suspicious_shrink', help: 'Whether the last successful backup was far smaller than the previous one (stored; retention skipped)', labels: h, value: f.suspiciousShrink ? 1 : 0 });
  const r = repositoryLabels(f);
  const rg = (name: string): [string, string] => [`stash_repository_${name}`, `stash_appscode_com_repository_${name}`];
  if (f.integrityOk !== undefined) emit(...rg('integrity'), 'Result of repository integrity check after last backup', r, f.integrityOk ? 1 : 0);
  if (f.repositoryStats) {
    emit(...rg('size_bytes'), 'Indicates size of repository after last backup (in bytes)', r, f.repositoryStats.sizeBytes);
    emit(...rg('snapshot_count'), 'Indicates number of snapshots stored in the repository', r, f.repositoryStats.snapshotCount);
  }
  emit(...rg('snapshot_cleaned'), 'Indicates number of old snapshots cleaned up according to retention policy on last backup session', r, f.snapshotsRemoved ?? 0);
}

function restoreMetrics(f: SessionFacts, emit: Emit): void {
  const ok = f.phase === 'Succeeded' ? 1 : 0;
  const s = sessionLabels(f);
  const t = targetLabels(f);
  const h = { ...t, hostname: STASH_HOSTNAME };
  const g = (name: string): [string, string] => [`stash_restore_${name}`, `stash_appscode_com_restoresession_${name.replace(/^session_/, '')}`];
  emit(...g('session_success'), 'Indicates whether the entire restore session was succeeded or not', s, ok);
  emit(...g('target_success'), 'Indicates whether the restore for a target has succeeded or not', t, ok);
  emit(...g('host_restore_success'), 'Indicates whether the restore process was succeeded for a host', h, ok);
  if (!ok) return;
  emit(...g('session_duration_seconds'), 'Indicates the total time taken to complete the entire restore session', s, f.sessionSeconds);
  emit(...g('target_count_total'), 'Indicates the total number of targets that were restored in this restore session', s, 1);
  emit(...g('target_host_count_total'), 'Indicates the total number of hosts that were restored for this restore target', t, 1);
  emit(...g('host_restore_duration_seconds'), 'Indicates the total time taken to complete the restore process for a host', h, f.hostSeconds ?? f.sessionSeconds);
}
