// One errors module for the whole product (undici style): every error carries a stable
// `code` that callers branch on, never the message text, and `retryable`, which says
// whether trying the same operation again may succeed.

export const ErrorCodes = {
  // repository
  NOT_A_REPOSITORY: 'SIDESTASH_NOT_A_REPOSITORY',
  REPOSITORY_EXISTS: 'SIDESTASH_REPOSITORY_EXISTS',
  WRONG_PASSWORD: 'SIDESTASH_WRONG_PASSWORD',
  UNSUPPORTED_REPOSITORY: 'SIDESTASH_UNSUPPORTED_REPOSITORY',
  CORRUPT_FILE: 'SIDESTASH_CORRUPT_FILE',
  CORRUPT_PACK: 'SIDESTASH_CORRUPT_PACK',
  MISSING_BLOB: 'SIDESTASH_MISSING_BLOB',
  REPOSITORY_LOCKED: 'SIDESTASH_REPOSITORY_LOCKED',
  LOCK_LOST: 'SIDESTASH_LOCK_LOST',
  SNAPSHOT_NOT_FOUND: 'SIDESTASH_SNAPSHOT_NOT_FOUND',
  AMBIGUOUS_ID: 'SIDESTASH_AMBIGUOUS_ID',
  PATH_NOT_FOUND: 'SIDESTASH_PATH_NOT_FOUND',
  CHECK_FAILED: 'SIDESTASH_CHECK_FAILED',
  // backends
  BACKEND_NOT_FOUND: 'SIDESTASH_BACKEND_NOT_FOUND',
  BACKEND_IO: 'SIDESTASH_BACKEND_IO',
  // control plane and sessions
  NOT_FOUND: 'SIDESTASH_NOT_FOUND',
  CONFLICT: 'SIDESTASH_CONFLICT',
  VALIDATION_FAILED: 'SIDESTASH_VALIDATION_FAILED',
  UNAUTHORIZED: 'SIDESTASH_UNAUTHORIZED',
  FORBIDDEN: 'SIDESTASH_FORBIDDEN',
  AGENT_LOST: 'SIDESTASH_AGENT_LOST',
  SESSION_TIMEOUT: 'SIDESTASH_SESSION_TIMEOUT',
  SESSION_CANCELLED: 'SIDESTASH_SESSION_CANCELLED',
  /** A Pending session that no online agent served within SIDESTASH_PENDING_TIMEOUT. */
  NO_AGENT: 'SIDESTASH_NO_AGENT',
  DUMP_FAILED: 'SIDESTASH_DUMP_FAILED',
  DUMP_ARGS_REFUSED: 'SIDESTASH_DUMP_ARGS_REFUSED',
  RESTORE_FAILED: 'SIDESTASH_RESTORE_FAILED',
  /** A restored table does not hold the rows the dump carried (the session's tables list which). */
  RESTORE_VERIFY_FAILED: 'SIDESTASH_RESTORE_VERIFY_FAILED',
  /** A restore asked for a database the snapshot does not contain (details: database, databases). */
  NOT_IN_SNAPSHOT: 'SIDESTASH_NOT_IN_SNAPSHOT',
  DATABASE_UNAVAILABLE: 'SIDESTASH_DATABASE_UNAVAILABLE',
  CONTROLLER_UNAVAILABLE: 'SIDESTASH_CONTROLLER_UNAVAILABLE',
  /** A list the controller pages went past the CLI's cap on items or pages (details: path, items, pages, maxItems, maxPages). */
  LIST_TOO_LONG: 'SIDESTASH_LIST_TOO_LONG',
  /** An agent reported a result the controller could not confirm (e.g. a snapshot not in the repository). */
  RESULT_REJECTED: 'SIDESTASH_RESULT_REJECTED',
  // point-in-time recovery
  /** The server cannot be archived (binary log off, no server_id, a binlog format or checksum the archive cannot keep, missing privileges); details: problems. */
  BINLOG_UNSUITABLE: 'SIDESTASH_BINLOG_UNSUITABLE',
  /** Binary-log events were lost before they were archived (purged, RESET MASTER, a server that is not the one archived): the chain ends; details: file, position. */
  BINLOG_GAP: 'SIDESTASH_BINLOG_GAP',
  /** A point-in-time restore's target cannot be reached from what the repository holds (no dump before it, a gap, not archived yet); details: reason. */
  PITR_UNREACHABLE: 'SIDESTASH_PITR_UNREACHABLE',
  // Kubernetes mode
  /** The Kubernetes API server did not answer, or answered 5xx/429 (retryable). */
  KUBE_UNAVAILABLE: 'SIDESTASH_KUBE_UNAVAILABLE',
  /** The API server refused the controller's own credentials (401) or RBAC (403): not the caller's fault, the controller's ServiceAccount's. */
  KUBE_DENIED: 'SIDESTASH_KUBE_DENIED',
  /** 410 Gone: a list or watch from a resourceVersion the API server no longer has; list again. */
  RESOURCE_EXPIRED: 'SIDESTASH_RESOURCE_EXPIRED',
  /** An agent call reached a controller replica that does not hold the leader Lease (503, retryable: call again). */
  NOT_LEADER: 'SIDESTASH_NOT_LEADER',
  // general
  INVALID_ARGUMENT: 'SIDESTASH_INVALID_ARGUMENT',
  INVALID_CONFIG: 'SIDESTASH_INVALID_CONFIG',
  ABORTED: 'SIDESTASH_ABORTED',
  SUBPROCESS_FAILED: 'SIDESTASH_SUBPROCESS_FAILED',
  // observability
  /** The Pushgateway refused or did not answer a push or delete. */
  METRICS_PUSH_FAILED: 'SIDESTASH_METRICS_PUSH_FAILED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface SidestashErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class SidestashError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: SidestashErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SidestashError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, retryable: this.retryable, ...this.details };
  }
}

export function isSidestashError(err: unknown, code?: ErrorCode): err is SidestashError {
  return err instanceof SidestashError && (code === undefined || err.code === code);
}

/** A rejection for an aborted operation that keeps the signal's reason as its cause. */
export function abortError(signal: AbortSignal | undefined): SidestashError {
  return new SidestashError(ErrorCodes.ABORTED, 'operation aborted', { cause: signal?.reason });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** The message of any thrown value, for logs and API error bodies. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
