// The metric contract of issue 11 (the names sidestash exports), for tests that check that
// dashboards and alerts use only real metrics, and builders of contract-shaped samples in the
// Prometheus text format for tests that push or serve them.

import { stashMetrics } from '../../controller/pushgateway/stash-metrics.ts';
import type { SessionFacts } from '../../controller/pushgateway/stash-metrics.ts';

/** Stash's metrics, pushed (POST /metrics/job/<job>) by the controller, under both names. */
const STASH_LEGACY = [
  'stash_backup_session_success', 'stash_backup_session_duration_seconds', 'stash_backup_target_count_total', 'stash_backup_last_success_time_seconds',
  'stash_backup_target_success', 'stash_backup_target_host_count_total', 'stash_backup_target_last_success_time_seconds',
  'stash_backup_host_backup_success', 'stash_backup_host_backup_duration_seconds', 'stash_backup_host_data_size_bytes', 'stash_backup_host_data_uploaded_bytes',
  'stash_backup_host_data_processing_time_seconds', 'stash_backup_host_files_total', 'stash_backup_host_files_new', 'stash_backup_host_files_modified', 'stash_backup_host_files_unmodified',
  'stash_repository_integrity', 'stash_repository_size_bytes', 'stash_repository_snapshot_count', 'stash_repository_snapshot_cleaned',
  'stash_restore_session_success', 'stash_restore_session_duration_seconds', 'stash_restore_target_count_total', 'stash_restore_target_success',
  'stash_restore_target_host_count_total', 'stash_restore_host_restore_success', 'stash_restore_host_restore_duration_seconds',
];

/**
 * Stash's second name for a legacy metric (stash_backup_x → stash_appscode_com_backupsession_x, …);
 * the session-level ones lose their "session_" (stash_backup_session_success →
 * stash_appscode_com_backupsession_success), as in Stash's pkg/metrics.
 */
export function stashNewName(legacy: string): string {
  return legacy.replace(/^stash_(backup|restore)_session_/, 'stash_$1_').replace(/^stash_backup_/, 'stash_appscode_com_backupsession_').replace(/^stash_restore_/, 'stash_appscode_com_restoresession_').replace(/^stash_repository_/, 'stash_appscode_com_repository_');
}

export const PUSHED_METRICS: readonly string[] = [
  ...STASH_LEGACY, ...STASH_LEGACY.map(stashNewName), 'sidestash_backup_suspicious_shrink',
  // live progress (job sidestash-progress)
  'sidestash_session_finished_timestamp_seconds',
  'sidestash_session_running', 'sidestash_session_progress_bytes', 'sidestash_session_stored_bytes', 'sidestash_session_rate_bytes_per_second', 'sidestash_session_eta_seconds',
  // the Pushgateway's own, per group
  'push_time_seconds', 'push_failure_time_seconds',
];

/** The controller's /metrics. */
export const CONTROLLER_METRICS: readonly string[] = [
  'sidestash_backup_last_success_timestamp_seconds', 'sidestash_backup_last_phase', 'sidestash_backup_last_duration_seconds', 'sidestash_backup_consecutive_failures',
  'sidestash_backup_configuration_created_timestamp_seconds', 'sidestash_backup_schedule_period_seconds', 'sidestash_backup_paused', 'sidestash_backup_suspicious_shrink',
  'sidestash_repository_integrity', 'sidestash_session_oldest_age_seconds', 'sidestash_sessions', 'sidestash_sessions_finished_total',
  'sidestash_agent_online', 'sidestash_agents_online',
  // point-in-time recovery: the binlog archive of each configuration that has one
  'sidestash_binlog_archive_up', 'sidestash_binlog_archive_lag_seconds', 'sidestash_binlog_archive_last_event_timestamp_seconds', 'sidestash_binlog_archive_last_flush_timestamp_seconds',
  'sidestash_binlog_archived_bytes', 'sidestash_binlog_archive_gaps',
];

export const CONTRACT_METRICS: ReadonlySet<string> = new Set([...PUSHED_METRICS, ...CONTROLLER_METRICS]);

/**
 * sidestash, Stash and Pushgateway metric names an expression refers to (identifiers starting
 * with sidestash_, stash_ or push_, outside string literals; no label of the contract starts so).
 */
export function metricNames(expr: string): string[] {
  const stripped = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...new Set(stripped.match(/\b(?:sidestash|stash|push)_[a-zA-Z0-9_]+\b/g) ?? [])];
}

export type Labels = Record<string, string>;

/** One sample line of the text format. */
export function sampleLine(name: string, labels: Labels, value: number): string {
  const l = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
  return `${name}${l ? `{${l}}` : ''} ${value}`;
}

/** A text-format body with a gauge TYPE line before each metric's samples. */
export function exposition(samples: readonly Sample[]): string {
  const byName = new Map<string, string[]>();
  for (const s of samples) byName.set(s.name, [...(byName.get(s.name) ?? []), sampleLine(s.name, s.labels, s.value)]);
  return [...byName].map(([name, lines]) => `# TYPE ${name} gauge\n${lines.join('\n')}\n`).join('');
}

export interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

/** Stash's push of one backup session's end, as the contract describes (both names of each metric). */
export function stashBackupPush(o: {
  namespace: string;
  configuration: string;
  repository: string;
  target: string;
  success: boolean;
  /** When the session ended (default: now). */
  finishedAtS?: number;
  /** With a failure: the configuration's last success, which the controller pushes along. */
  lastSuccessS?: number;
  /** On success: */
  durationS?: number;
  sizeBytes?: number;
  uploadedBytes?: number;
  filesNew?: number;
  repositorySizeBytes?: number;
  snapshotCount?: number;
  integrity?: boolean;
  backend?: string;
}): Sample[] {
  // Built by the controller's own code (controller/pushgateway/stash-metrics.ts), not a copy of it.
  const facts: SessionFacts = {
    kind: 'BackupSession', namespace: o.namespace, invokerName: o.configuration,
    repository: { name: o.repository, namespace: o.namespace, backend: o.backend ?? 'local' },
    target: { name: o.target }, phase: o.success ? 'Succeeded' : 'Failed',
    sessionSeconds: o.durationS ?? 1, hostSeconds: o.durationS ?? 1, processingSeconds: o.durationS ?? 1,
    finishedAtSeconds: o.finishedAtS ?? Date.now() / 1000,
    bytesRead: o.sizeBytes ?? 0, bytesStored: o.uploadedBytes ?? 0,
    files: (o.filesNew ?? 1) > 0 ? { new: 1, modified: 0, unmodified: 0 } : { new: 0, modified: 1, unmodified: 0 },
    snapshotsRemoved: 0, repositoryStats: { sizeBytes: o.repositorySizeBytes ?? 0, snapshotCount: o.snapshotCount ?? 1 },
    ...(o.integrity === undefined ? {} : { integrityOk: o.integrity }),
    ...(o.lastSuccessS === undefined ? {} : { lastSuccessAtSeconds: o.lastSuccessS }),
  };
  return stashMetrics(facts).map(({ name, labels, value }) => ({ name, labels, value }));
}

/** Stash's push of one restore session's end. */
export function stashRestorePush(o: { namespace: string; restoreSession: string; repository: string; target: string; success: boolean; durationS?: number; finishedAtS?: number }): Sample[] {
  const facts: SessionFacts = {
    kind: 'RestoreSession', namespace: o.namespace, invokerName: o.restoreSession,
    repository: { name: o.repository, namespace: o.namespace, backend: 'local' },
    target: { name: o.target }, phase: o.success ? 'Succeeded' : 'Failed',
    sessionSeconds: o.durationS ?? 1, hostSeconds: o.durationS ?? 1, finishedAtSeconds: o.finishedAtS ?? Date.now() / 1000,
  };
  return stashMetrics(facts).map(({ name, labels, value }) => ({ name, labels, value }));
}


/** The Pushgateway path of a Stash job: /metrics/job/<invoker-kind>-<namespace>-<name>, lower case. */
export function stashJobPath(kind: 'BackupConfiguration' | 'RestoreSession', namespace: string, name: string): string {
  return `/metrics/job/${encodeURIComponent(`${kind}-${namespace}-${name}`.toLowerCase())}`;
}

/** The live-progress group's path and samples of a running session. */
export function progressPush(o: { namespace: string; invokerKind: 'BackupConfiguration' | 'RestoreSession'; invokerName: string; session: string; target: string; repository: string; progressBytes: number; storedBytes: number; rateBytesPerSecond: number; etaSeconds: number }): { path: string; samples: Sample[] } {
  const grouping: Labels = { namespace: o.namespace, invoker_kind: o.invokerKind, invoker_name: o.invokerName };
  const labels: Labels = { session: o.session, name: o.target, hostname: 'host-0', repository: o.repository };
  const path = `/metrics/job/sidestash-progress/${Object.entries(grouping).map(([k, v]) => `${k}/${encodeURIComponent(v)}`).join('/')}`;
  return {
    path,
    samples: [
      { name: 'sidestash_session_running', labels, value: 1 },
      { name: 'sidestash_session_progress_bytes', labels, value: o.progressBytes },
      { name: 'sidestash_session_stored_bytes', labels, value: o.storedBytes },
      { name: 'sidestash_session_rate_bytes_per_second', labels, value: o.rateBytesPerSecond },
      { name: 'sidestash_session_eta_seconds', labels, value: o.etaSeconds },
    ],
  };
}
