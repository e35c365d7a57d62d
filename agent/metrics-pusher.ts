// Session metrics pushed to a Prometheus Pushgateway with Stash's metric names and labels,
// grouped by job, namespace, invoker and hostname so that targets never overwrite each other.
// Pushes add to their group (POST), so a failed backup leaves the last success time in place.
// While a session runs, its progress (bytes, rate) is pushed too, at most every few seconds.
import { Gauge, Pushgateway, Registry } from 'prom-client';
import { errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import type { SessionAssignment, SessionProgress, SessionResult } from '../common/protocol.ts';

export const STASH_JOB = 'stash-backup';
export const PROGRESS_JOB = 'sidestash-progress';
const PROGRESS_PUSH_MS = 5000;

type Labels = Record<string, string>;

function labelsOf(a: SessionAssignment): Labels {
  const [, target = a.target] = a.target.split('/');
  return {
    invoker_kind: a.kind === 'BackupSession' ? 'BackupConfiguration' : 'RestoreSession',
    invoker_name: a.kind === 'BackupSession' ? a.invoker : a.name,
    namespace: a.namespace,
    driver: 'Restic',
    repository: a.repositoryName,
    kind: 'AppBinding',
    name: target,
    hostname: a.snapshotHost,
  };
}

function grouping(l: Labels): Record<string, string> {
  return { namespace: l.namespace!, invoker_kind: l.invoker_kind!, invoker_name: l.invoker_name!, hostname: l.hostname! };
}

export class MetricsPusher {
  readonly #url: string;
  readonly #log: Logger;
  #lastProgressPushMs = 0;
  #progressInFlight: Promise<void> = Promise.resolve();

  constructor(url: string, log: Logger) {
    this.#url = url.replace(/\/+$/, '');
    this.#log = log;
  }

  async #push(job: string, registry: Registry, groupings: Record<string, string>): Promise<void> {
    const gateway = new Pushgateway(this.#url, { timeout: 10_000 }, registry);
    await gateway.pushAdd({ jobName: job, groupings });
  }

  /** Pushes the final metrics of a session; failures are logged, never thrown. */
  async sessionFinished(a: SessionAssignment, r: SessionResult): Promise<void> {
    const labels = labelsOf(a);
    const registry = new Registry();
    const gauge = (name: string, help: string, value: number, extra: Labels = {}): void => {
      const names = Object.keys({ ...labels, ...extra });
      const g = new Gauge({ name, help, labelNames: names, registers: [registry] });
      g.set({ ...labels, ...extra }, value);
    };
    const ok = r.phase === 'Succeeded' ? 1 : 0;
    const duration = r.durationSeconds ?? 0;
    if (a.kind === 'BackupSession') {
      gauge('stash_backup_session_success', 'Whether the backup session succeeded', ok);
      gauge('stash_backup_target_success', 'Whether the backup of the target succeeded', ok);
      gauge('stash_backup_host_backup_success', 'Whether the backup of the host succeeded', ok);
      if (ok) {
        const now = Date.now() / 1000;
        gauge('stash_backup_session_duration_seconds', 'Time taken by the backup session', duration);
        gauge('stash_backup_last_success_time_seconds', 'When the last backup session succeeded (unix time)', now);
        gauge('stash_backup_target_last_success_time_seconds', 'When the last backup of the target succeeded (unix time)', now);
        gauge('stash_backup_target_count_total', 'Targets backed up in the session', 1);
        gauge('stash_backup_target_host_count_total', 'Hosts backed up for the target', 1);
        gauge('stash_backup_host_backup_duration_seconds', 'Time taken to back up the host', duration);
        gauge('stash_backup_host_data_processing_time_seconds', 'Time taken to process the host data', duration);
        gauge('stash_backup_host_data_size_bytes', 'Size of the data backed up for the host (the dump)', r.bytesRead ?? 0);
        gauge('stash_backup_host_data_uploaded_bytes', 'Data uploaded to the repository for the host', r.bytesStored ?? 0);
        gauge('stash_backup_host_files_total', 'Files backed up for the host', 1);
        if (r.repositoryStats) {
          gauge('stash_repository_size_bytes', 'Size of the repository after the last backup', r.repositoryStats.sizeBytes);
          gauge('stash_repository_snapshot_count', 'Snapshots in the repository', r.repositoryStats.snapshotCount);
        }
        gauge('sidestash_backup_suspicious_shrink', 'Whether the last backup was far smaller than the previous one (stored; retention skipped)', r.suspiciousShrink ? 1 : 0);
        if (r.retention) gauge('stash_repository_snapshot_cleaned', 'Snapshots removed by the retention policy in the last session', r.retention.removed);
      }
    } else {
      gauge('stash_restore_session_success', 'Whether the restore session succeeded', ok);
      gauge('stash_restore_target_success', 'Whether the restore of the target succeeded', ok);
      gauge('stash_restore_host_restore_success', 'Whether the restore of the host succeeded', ok);
      if (ok) {
        gauge('stash_restore_session_duration_seconds', 'Time taken by the restore session', duration);
        gauge('stash_restore_host_restore_duration_seconds', 'Time taken to restore the host', duration);
        gauge('stash_restore_target_count_total', 'Targets restored in the session', 1);
      }
    }
    try {
      await this.#push(STASH_JOB, registry, grouping(labels));
      await this.#progressInFlight;
      await this.#pushProgress(a, undefined);
    } catch (err) {
      this.#log.warn('pushing metrics failed', { pushgateway: this.#url, err: errorMessage(err) });
    }
  }

  /** Live progress while a session runs (throttled); `undefined` marks the session as ended. */
  progress(a: SessionAssignment, p: SessionProgress): void {
    const now = Date.now();
    if (now - this.#lastProgressPushMs < PROGRESS_PUSH_MS) return;
    this.#lastProgressPushMs = now;
    this.#progressInFlight = this.#progressInFlight
      .then(() => this.#pushProgress(a, p))
      .catch((err: unknown) => this.#log.warn('pushing progress metrics failed', { err: errorMessage(err) }));
  }

  async #pushProgress(a: SessionAssignment, p: SessionProgress | undefined): Promise<void> {
    const labels = { ...labelsOf(a), session: a.name };
    const registry = new Registry();
    const names = Object.keys(labels);
    const set = (name: string, help: string, v: number): void => new Gauge({ name, help, labelNames: names, registers: [registry] }).set(labels, v);
    set('sidestash_session_running', 'Whether a session of this invoker is running on the host', p ? 1 : 0);
    set('sidestash_session_progress_bytes', 'Bytes dumped (backup) or restored so far in the running session', p?.bytesDumped ?? 0);
    set('sidestash_session_stored_bytes', 'Bytes stored in the repository so far in the running session', p?.bytesStored ?? 0);
    set('sidestash_session_rate_bytes_per_second', 'Current rate of the running session', p?.rateBytesPerSecond ?? 0);
    if (p?.etaSeconds !== undefined) set('sidestash_session_eta_seconds', 'Estimated seconds left in the running session', p.etaSeconds);
    // PUT semantics per group: the ended session's series replace the running ones.
    const gateway = new Pushgateway(this.#url, { timeout: 10_000 }, registry);
    await gateway.push({ jobName: PROGRESS_JOB, groupings: grouping(labels) });
  }
}
