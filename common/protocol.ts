// The controller-agent protocol (JSON over HTTP), shared by both sides.
// Agent: POST /api/v1/agents/register (bootstrap token) -> AgentRegistration (agent token);
// then with the agent token: GET /api/v1/agents/{name}/sessions/next?waitMs=N (long-poll,
// 204 when nothing), POST /api/v1/agents/{name}/sessions/{kind}/{ns}/{name}/progress and
// .../result, POST /api/v1/agents/{name}/heartbeat.
import type { RetentionPolicy } from './repository/retention.ts';

export const API_PREFIX = '/api/v1';

export interface AgentRegisterRequest {
  name: string;
  /** AppBindings this agent serves, as "namespace/name". */
  targets: string[];
  version: string;
}

export interface AgentRegistration {
  name: string;
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
  /** Shrink guard threshold in percent of the previous dump (0: off; absent: the agent's default, 50). */
  shrinkGuardPercent?: number;
}

export interface RestoreAssignment extends SessionBase {
  kind: 'RestoreSession';
  snapshot: string;
  snapshotHost: string;
  /** Restore only this database from the dump. */
  databaseName?: string;
}

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

/** The phases a session ends in. */
export type FinalPhase = 'Succeeded' | 'Failed';

/** Whether a session in `phase` has ended (no phase yet: it has not). */
export function isFinalPhase(phase: string | undefined): phase is FinalPhase {
  return phase === 'Succeeded' || phase === 'Failed';
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
}

export interface SuspiciousShrink {
  previousSnapshotId: string;
  previousBytes: number;
  bytes: number;
  /** bytes as a percentage of previousBytes. */
  percent: number;
  thresholdPercent: number;
}
