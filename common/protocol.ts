// The controller-agent protocol (JSON over HTTP), shared by both sides; the paths are in
// agent-paths.ts. Agent: POST register (enrolment token) -> AgentRegistration (agent token);
// then with the agent token: long-poll for the next session (204 when nothing), progress and
// result of its sessions, heartbeat. The controller decides what an agent may serve: the
// granted targets come back in the registration.
import type { RetentionPolicy } from './repository/retention.ts';

export const API_PREFIX = '/api/v1';

export interface AgentRegisterRequest {
  /** The agent's name, unique in its namespace (the pod's name in Kubernetes). */
  name: string;
  /** The agent's namespace; the enrolment token must be scoped to it. */
  namespace: string;
  /** AppBindings this agent asks to serve, as "namespace/name"; each must be in the token's scope. */
  targets: string[];
  version: string;
  /** The agent token of this agent's current registration, when it re-registers. */
  currentToken?: string;
}

export interface AgentRegistration {
  name: string;
  namespace: string;
  /** The targets the controller granted (what the agent will be given sessions for). */
  targets: string[];
  token: string;
  heartbeatIntervalMs: number;
  leaseMs: number;
}

/** How the agent reaches its database; the password travels only to the agent. */
export interface DatabaseConnection {
  socket?: string;
  host?: string;
  port?: number;
  username: string;
  password: string;
  /** PEM CA certificate to verify the server, when TLS is used. */
  caCert?: string;
}

export interface RepositoryAccess {
  /** Backend location, e.g. "local:/var/backups/shop". */
  location: string;
  password: string;
  /** Backend credentials by Stash's storage-secret key names (AWS_ACCESS_KEY_ID, ...). */
  credentials: Record<string, string>;
}

interface SessionBase {
  namespace: string;
  name: string;
  /** The AppBinding "namespace/name". */
  target: string;
  /** The Repository resource's name (metrics label). */
  repositoryName: string;
  database: DatabaseConnection;
  repository: RepositoryAccess;
  /** Deadline for the whole session, epoch ms; absent: none. */
  deadlineMs?: number;
}

export interface BackupAssignment extends SessionBase {
  kind: 'BackupSession';
  invoker: string;
  dumpArgs: string[];
  retentionPolicy?: RetentionPolicy & { prune: boolean; dryRun: boolean };
  /**
   * Hostname recorded in snapshots; Stash uses the target's name. The agent also tags each
   * snapshot namespace=, target=, invoker= and session=; which snapshots are the target's is
   * decided by common/repository/snapshot-selector.ts.
   */
  snapshotHost: string;
  filename: string;
  /**
   * The BackupSession's uid: the snapshot is tagged `session-uid=<uid>`, so that a session
   * deleted and created again under the same name cannot be proven by the old one's snapshot.
   */
  sessionUid?: string;
  /** Shrink guard threshold in percent of the previous dump (0: off; absent: the agent's default, 50). */
  shrinkGuardPercent?: number;
  /** Check the repository after the backup: absent, no check; {}, metadata; with readDataSubset also that subset of packs ("n/m" or "x%"). */
  integrityCheck?: IntegrityCheckAssignment;
  /**
   * Record where in the binary log the dump was taken (the configuration archives binlogs for
   * point-in-time recovery): the agent adds --master-data=2 and tags the snapshot with the
   * coordinates (common/binlog/archive-layout.ts).
   */
  recordBinlogCoordinates?: boolean;
  /** The BackupConfiguration's upload bandwidth limit in KiB/s; the agent applies the lower of it and its own. */
  limitUploadKiBps?: number;
  /** 'parallel': the agent's parallel consistent dumper (agent/parallel-dump/) writes the dump instead of mariadb-dump. */
  dumper?: 'parallel';
  /** Its reading connections (1..16). */
  parallel?: number;
}

export interface IntegrityCheckAssignment {
  readDataSubset?: string;
}

export interface RestoreAssignment extends SessionBase {
  kind: 'RestoreSession';
  snapshot: string;
  snapshotHost: string;
  /**
   * With `latest`: restore the newest snapshot another tool (Stash) wrote with this hostname
   * (common/repository/snapshot-selector.ts, isSourceHostSnapshot) instead of the target's own.
   */
  sourceHost?: string;
  /** Restore only this database from the dump. */
  databaseName?: string;
  /** Restore only these tables (`db.table`, RestoreSession spec.tables). */
  tables?: string[];
  /** Restore the selected database or tables into this database (spec.targetDatabase). */
  targetDatabase?: string;
  /** Connections the dump loads over (1..64); absent: the agent's cores, at least 2. */
  parallel?: number;
  /** false: the restore does not write the server's binary log (SET sql_log_bin=0); absent: true. */
  writeBinlog?: boolean;
  /** 'checksum': also record CHECKSUM TABLE of each restored table. */
  verify?: 'checksum';
  /** Point-in-time recovery: the newest dump before this point, then the archived binary log up to it (snapshot is then unused). */
  pointInTime?: PointInTime;
}

/**
 * A point to recover to: everything archived; every transaction committed before a time (RFC
 * 3339, UTC); up to and including a GTID (d-s-n); up to, not including, a binlog byte position.
 */
export type PointInTime = { kind: 'latest' } | { kind: 'time'; time: string } | { kind: 'gtid'; gtid: string } | { kind: 'position'; file: string; position: number };

export type SessionAssignment = BackupAssignment | RestoreAssignment;

export interface SessionProgress {
  bytesDumped: number;
  bytesStored: number;
  rateBytesPerSecond: number;
  estimatedTotalBytes?: number;
  etaSeconds?: number;
}

export interface ProgressResponse {
  /** The controller asks the agent to stop (session cancelled or timed out). */
  cancel: boolean;
}

/** The phases a session ends in. Cancelled: stopped on request (a cancel, a deleted BackupConfiguration); agents report Succeeded or Failed only. */
export type FinalPhase = 'Succeeded' | 'Failed' | 'Cancelled';

/** Whether a session in `phase` has ended (no phase yet: it has not). */
export function isFinalPhase(phase: string | undefined): phase is FinalPhase {
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Cancelled';
}

export interface SessionResult {
  phase: FinalPhase;
  error?: { code: string; message: string };
  snapshotId?: string;
  bytesRead?: number;
  bytesStored?: number;
  durationSeconds?: number;
  retention?: { kept: number; removed: number; pruned: boolean; error?: string };
  /** The repository after the session (backups). */
  repositoryStats?: { sizeBytes: number; snapshotCount: number };
  /** Set when the shrink guard flagged the backup (it is stored; retention was skipped). */
  suspiciousShrink?: SuspiciousShrink;
  /** Seconds spent dumping and storing only (no probe, retention, statistics or check). */
  processingSeconds?: number;
  /** The dump file as restic counts files against the configuration's previous snapshot. */
  files?: { new: number; modified: number; unmodified: number };
  /** The repository check after the backup (absent: none ran). */
  integrity?: IntegrityResult;
  /** A restore's per-table check (at most MAX_VERIFIED_TABLES, mismatches first). */
  tables?: TableVerification[];
  /** Where in the binary log the backup's dump was taken (recordBinlogCoordinates). */
  binlogCoordinates?: { file: string; position: number; gtid: string };
}

/** A restored table's rows counted on the server against the rows of its INSERTs in the dump. */
export interface TableVerification {
  database: string;
  table: string;
  expectedRows: number;
  restoredRows: number;
  /** CHECKSUM TABLE ... EXTENDED after the restore (verify: checksum). */
  checksum?: string;
}

export const MAX_VERIFIED_TABLES = 1000;

/** A repository check's outcome; errors: at most MAX_INTEGRITY_ERRORS, each at most MAX_INTEGRITY_ERROR_CHARS. */
export interface IntegrityResult {
  ok: boolean;
  checkedAt: string;
  /** The subset of pack data read ("n/m" or "x%"); absent: a metadata check. */
  readDataSubset?: string;
  errors: string[];
}

export const MAX_INTEGRITY_ERRORS = 20;
export const MAX_INTEGRITY_ERROR_CHARS = 500;

export interface SuspiciousShrink {
  previousSnapshotId: string;
  previousBytes: number;
  bytes: number;
  /** bytes as a percentage of previousBytes. */
  percent: number;
  thresholdPercent: number;
}

/**
 * A BackupConfiguration whose target's binary log this agent archives (spec.binlog.enabled):
 * the controller leases each archive to one agent at a time; the agent syncs again within
 * leaseMs of sending the sync that brought it (agentPaths.binlogArchives) or stops archiving, so
 * that two agents never write one archive. A duration, not a time: the hosts' clocks may differ.
 */
export interface BinlogArchiveAssignment {
  /** "namespace/name" of the BackupConfiguration: the archive's identity. */
  configuration: string;
  /** The AppBinding "namespace/name". */
  target: string;
  repositoryName: string;
  snapshotHost: string;
  database: DatabaseConnection;
  repository: RepositoryAccess;
  flushIntervalSeconds: number;
  /** The server_id the archiver registers with as a replica. */
  replicaServerId: number;
  leaseMs: number;
}

/** Where a binlog archive is, as its archiver says (reports) and the configuration's status shows. */
export interface BinlogArchiveProgress {
  /** The archive chain (a new one starts after every gap), file and byte position archived. */
  chain?: string;
  file?: string;
  position?: number;
  /** RFC 3339: when the newest archived event was written on the server. */
  lastEventTime?: string;
  /** The GTIDs archived last, one per domain (d-s-n,...). */
  lastGtid?: string;
  /** RFC 3339: when the open file was last stored. */
  flushedAt?: string;
  bytesArchived?: number;
  /** How far the stored archive is behind what the archiver has read, in seconds. */
  lagSeconds?: number;
}

/** What an agent reports of one archive it runs; every field is checked by the controller. */
export interface BinlogArchiveReport extends BinlogArchiveProgress {
  configuration: string;
  /** Gaps the archiver found since its previous report (the newest one's words). */
  gaps?: number;
  lastGap?: { detectedAt: string; message: string };
  /** The archiver's current failure (it retries). */
  error?: { code: string; message: string };
}

export interface BinlogArchiveSyncRequest {
  reports: BinlogArchiveReport[];
}

export interface BinlogArchiveSyncResponse {
  archives: BinlogArchiveAssignment[];
}
