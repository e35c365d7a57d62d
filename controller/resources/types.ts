// Stash-like resources held by the controller. Every resource is
// { apiVersion, kind, metadata: { name, namespace }, spec, status }; spec is the user's,
// status the controller's.
import type { BinlogArchiveProgress, IntegrityResult, SuspiciousShrink, TableVerification } from '../../common/protocol.ts';
import type { RetentionPolicy } from '../../common/repository/retention.ts';

export const API_VERSION = 'sidestash.io/v1';

export const KINDS = ['Secret', 'Repository', 'AppBinding', 'BackupConfiguration', 'BackupSession', 'RestoreSession'] as const;
export type Kind = (typeof KINDS)[number];

/** URL path segment of each kind. */
export const PLURALS: Record<Kind, string> = {
  Secret: 'secrets',
  Repository: 'repositories',
  AppBinding: 'appbindings',
  BackupConfiguration: 'backupconfigurations',
  BackupSession: 'backupsessions',
  RestoreSession: 'restoresessions',
};

export interface Metadata {
  name: string;
  namespace: string;
  uid?: string;
  /** Opaque (controller/store/resource-store.ts): compared for equality only. */
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
}

export interface Resource<S = Record<string, unknown>, T = Record<string, unknown>> {
  apiVersion: string;
  kind: Kind;
  metadata: Metadata;
  spec: S;
  status?: T;
}

export interface SecretSpec {
  /** Plain values (Kubernetes stringData). */
  stringData?: Record<string, string>;
  /** Base64 values (Kubernetes data). */
  data?: Record<string, string>;
}

export interface RepositorySpec {
  backend: {
    local?: { path: string };
    s3?: { endpoint: string; bucket: string; prefix?: string; region?: string; bucketLookup?: 'auto' | 'path' | 'dns' };
    rest?: { url: string };
    storageSecretName: string;
  };
}

export interface AppBindingSpec {
  type?: string;
  /** sidestash's socket or host/port, or Stash's service or url: read through stash-spelling.ts's appBindingAddress. */
  clientConfig: {
    socket?: string;
    host?: string;
    port?: number;
    service?: { name: string; namespace?: string; port?: number; scheme?: 'mysql' | 'mariadb' | 'tcp'; path?: '/' | '' };
    url?: string;
  };
  secret: { name: string };
  tls?: { caSecretName: string };
  /** Informational (Stash's AppBinding has it). */
  version?: string;
}

export interface RetentionPolicySpec extends Omit<RetentionPolicy, 'keepTags' | 'keepOldestWithCountsLeft'> {
  name?: string;
  keepTags?: string[];
  prune?: boolean;
  dryRun?: boolean;
}

export interface BackupConfigurationSpec {
  schedule: string;
  timezone?: string;
  repository: { name: string };
  target: { ref: { apiVersion?: string; kind?: 'AppBinding'; name: string } };
  dumpArgs?: string[];
  /** Which dumper writes the dump: mariadb-dump (the default) or the agent's parallel consistent dumper. */
  dumper?: 'mariadb-dump' | 'parallel';
  /** Reading connections of the parallel dumper (1..16; default 2). */
  parallel?: number;
  retentionPolicy?: RetentionPolicySpec;
  paused?: boolean;
  backupHistoryLimit?: number;
  timeout?: string;
  /** Default: enabled, threshold 50 (percent of the previous dump's size). */
  shrinkGuard?: { enabled?: boolean; thresholdPercent?: number };
  /** Repository check after each successful backup (integrity-rules.ts has the defaults). */
  integrityCheck?: IntegrityCheckSpec;
  /** Point-in-time recovery: the target's binary log archived continuously into the repository. */
  binlog?: BinlogArchiveSpec;
  /** Upload bandwidth limit in KiB/s (1..10485760); the lower of it and the agent's SIDESTASH_LIMIT_UPLOAD_KIBPS applies. */
  limitUploadKiBps?: number;
  /** Stash's Task (a MariaDB/MySQL one): accepted and ignored. */
  task?: { name?: string };
  /** Stash's spelling of `timeout` (read through stash-spelling.ts's sessionTimeout). */
  timeOut?: string;
}

export interface BinlogArchiveSpec {
  enabled: boolean;
  /** The open binlog file is stored at least this often (the recovery point objective). Default 10. */
  flushIntervalSeconds?: number;
  /** The server_id the archiver registers with as a replica (unique among the server's replicas). Default: derived from the configuration's uid. */
  replicaServerId?: number;
}

export interface IntegrityCheckSpec {
  /** Default true: a metadata check after each successful backup. */
  enabled?: boolean;
  /** restic's "n/m" or "x%": the pack data a read-data check reads. Default "5%". */
  readDataSubset?: string;
  /** How often a backup's check also reads that subset, per Repository ("0s": every check). Default "168h". */
  readDataInterval?: string;
}

export interface RepositoryStatus {
  /** The newest check of the repository (see controller/sessions/repository-integrity.ts). */
  integrity?: { ok: boolean; checkedAt: string; readDataSubset?: string; session: string; errors?: string[] };
  /** When a check last read pack data (a subset or all of it). */
  lastReadDataCheckAt?: string;
  /** A running backup session was asked to read pack data: others sharing the repository are not, meanwhile. */
  readDataCheckPending?: { session: string; since: string };
}

export type SessionPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Cancelled';

export interface SessionProgressStatus {
  bytesDumped: number;
  bytesStored: number;
  rateBytesPerSecond: number;
  estimatedTotalBytes?: number;
  etaSeconds?: number;
  updatedAt: string;
  /** 0-99 while running (of the estimate), 100 once Succeeded (progress-percent.ts); for printer columns. */
  percent?: number;
}

export interface SessionStatus {
  phase: SessionPhase;
  /** Pending only, computed when read (sessions/pending-reason.ts): why it waits, as a code and in words. */
  reason?: string;
  message?: string;
  agent?: string;
  startedAt?: string;
  finishedAt?: string;
  durationSeconds?: number;
  leaseExpiresAt?: string;
  deadline?: string;
  cancelRequested?: boolean;
  /** Why the agent was asked to stop: through the API, because the deadline (`timeout`) passed, or because its BackupConfiguration was deleted. */
  cancelReason?: 'requested' | 'timeout' | 'deleted';
  progress?: SessionProgressStatus;
  snapshotId?: string;
  bytesRead?: number;
  bytesStored?: number;
  error?: { code: string; message: string };
  retention?: { kept: number; removed: number; pruned: boolean; error?: string };
  repositoryStats?: { sizeBytes: number; snapshotCount: number };
  /** The dump was far smaller than the previous one: stored, retention skipped. */
  suspiciousShrink?: SuspiciousShrink;
  /** Seconds spent dumping and storing (backups), as the agent measured them. */
  processingSeconds?: number;
  /** The dump file against the configuration's previous snapshot (restic's file counts). */
  files?: { new: number; modified: number; unmodified: number };
  /** The repository check after the backup. */
  integrity?: IntegrityResult;
  /** Where in the server's binary log the backup's dump was taken (configurations that archive binlogs). */
  binlogCoordinates?: { file: string; position: number; gtid: string };
  /** A restore's per-table check: rows restored against the rows of the dump (mismatches first). */
  tables?: TableVerification[];
}

export interface BackupSessionSpec {
  /** uid: the configuration the controller created the session for (controller/sessions/invoker-of.ts). */
  invoker: { apiGroup?: 'stash.appscode.com' | 'sidestash.io'; kind: 'BackupConfiguration'; name: string; uid?: string };
  /** offline: run by the agent on its own while the controller could not be reached (agent/offline/). */
  trigger?: 'schedule' | 'manual' | 'offline';
}

export interface RestoreSessionSpec {
  repository: { name: string };
  /** rules: Stash's spelling of snapshot and sourceHost; read through stash-spelling.ts's restoreSelection. */
  target: { ref: { apiVersion?: string; kind?: 'AppBinding'; name: string }; rules?: { snapshots?: string[]; sourceHost?: string }[] };
  snapshot?: string;
  /** With `latest`: the hostname of the Stash-written snapshots to restore (Stash's rules[].sourceHost, e.g. host-0). */
  sourceHost?: string;
  database?: string;
  /** Restore only these tables (`db.table`), with their structure, data and triggers. */
  tables?: string[];
  /** Restore into this database instead of the one in the dump (`sidestash restore --as`); the original is never touched. */
  targetDatabase?: string;
  /** Connections the dump loads over (1..64; absent: the agent's cores, at least 2). */
  parallel?: number;
  /** false: SET sql_log_bin=0 on the restore's connections (default true). */
  writeBinlog?: boolean;
  /** checksum: also record CHECKSUM TABLE of each restored table. */
  verify?: 'checksum';
  /**
   * Point-in-time recovery (one of these): the newest dump before the point, then the archived
   * binary log up to it. pointInTime: an RFC 3339 time (every transaction committed before it)
   * or "latest" (everything archived); gtid: up to and including this GTID (d-s-n);
   * position: up to, not including, this byte position of that binlog file.
   */
  pointInTime?: string;
  gtid?: string;
  position?: { file: string; position: number };
  timeout?: string;
  /** Stash's Task (a MariaDB/MySQL one): accepted and ignored. */
  task?: { name?: string };
  /** Stash's spelling of `timeout` (read through stash-spelling.ts's sessionTimeout). */
  timeOut?: string;
}

export interface BackupConfigurationStatus {
  lastScheduleTime?: string;
  nextScheduleTime?: string;
  lastSessionName?: string;
  skippedOverlaps?: number;
  /** Set when one of its BackupSessions reaches a terminal phase (sessions/configuration-outcome.ts); kept when history is pruned. */
  lastFinishedPhase?: 'Succeeded' | 'Failed' | 'Cancelled';
  lastFinishedSession?: string;
  /** The newest finished session's running time (0 when it never started). */
  lastDurationSeconds?: number;
  /** finishedAt of the newest successful session. */
  lastSuccessTime?: string;
  /** Failed sessions since the last success. */
  consecutiveFailures?: number;
  /** The newest successful session's shrink-guard finding; absent when it had none. */
  suspiciousShrink?: SuspiciousShrink;
  /** The binary-log archive (spec.binlog), as its agent reports it. */
  binlog?: BinlogArchiveStatus;
}

export interface BinlogArchiveStatus extends BinlogArchiveProgress {
  /** The agent archiving it, and until when that is its job without a report (the archive's lease). */
  agent?: string;
  leaseExpiresAt?: string;
  /** Gaps detected since the configuration was created; the newest one. */
  gaps?: number;
  lastGap?: { detectedAt: string; message: string };
  /** The archiver's current failure (it retries), e.g. the server is down or unsuitable. */
  error?: { code: string; message: string };
  updatedAt?: string;
}

/**
 * mariadb-dump's arguments when a BackupConfiguration gives none. --default-character-set=binary
 * writes each column's bytes as stored, under SET NAMES binary (as mydumper does): the server
 * converts nothing when dumping or restoring, which made a restore of a latin1 table ~35% faster
 * here; the dump is still one SQL file that `mariadb` restores exactly (test/data-fidelity.test.ts).
 */
export const DEFAULT_DUMP_ARGS = ['--all-databases', '--single-transaction', '--routines', '--events', '--triggers', '--default-character-set=binary'];
export const DEFAULT_BACKUP_HISTORY_LIMIT = 5;
/** Reading connections of the parallel dumper when spec.parallel is not given. */
export const DEFAULT_DUMP_PARALLEL = 2;
