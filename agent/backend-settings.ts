// The agent's settings for the repository backends it writes to on thin and broken links:
// an upload bandwidth limit and how long S3/REST calls keep retrying through an outage.
// Parsed with the agent's config (agent/config.ts), every problem reported together.
import type { OpenBackendOptions } from '../common/backend/open-backend.ts';
import { MAX_LIMIT_UPLOAD_KIBPS, MIN_LIMIT_UPLOAD_KIBPS, limitUploadProblem, uploadBucket } from '../common/backend/rate-limit.ts';
import type { TokenBucket } from '../common/backend/token-bucket.ts';
import type { RetryPolicy } from '../common/backend/retry.ts';
import type { EnvReader } from '../common/config-env.ts';
import { ErrorCodes, SidestashError } from '../common/errors.ts';

export interface BackendSettings {
  /** SIDESTASH_LIMIT_UPLOAD_KIBPS: the agent's upload limit in KiB/s; absent: none (a configuration's may still apply). */
  limitUploadKiBps?: number;
  /** SIDESTASH_BACKEND_RETRY_MAX_DELAY / SIDESTASH_BACKEND_RETRY_TOTAL: the backoff's longest wait and the retry window. */
  backendRetry?: { maxDelayMs: number; maxTotalMs: number };
}

export const DEFAULT_BACKEND_RETRY_MAX_DELAY = '30s';
export const DEFAULT_BACKEND_RETRY_TOTAL = '5m';
/** The longest retry window: a session should end, with an error, long before its lease and timeout do. */
const MAX_BACKEND_RETRY_TOTAL_MS = 24 * 3_600_000;

export function parseBackendSettings(r: EnvReader): BackendSettings {
  const out: BackendSettings = {};
  const limit = r.string('SIDESTASH_LIMIT_UPLOAD_KIBPS');
  if (limit !== undefined) {
    const n = /^\d{1,9}$/.test(limit.trim()) ? Number(limit.trim()) : Number.NaN;
    if (limitUploadProblem(n)) r.problems.push(`SIDESTASH_LIMIT_UPLOAD_KIBPS: ${JSON.stringify(limit)} is not a whole number of KiB/s from ${MIN_LIMIT_UPLOAD_KIBPS} to ${MAX_LIMIT_UPLOAD_KIBPS}`);
    else out.limitUploadKiBps = n;
  }
  const maxDelayMs = r.durationMs('SIDESTASH_BACKEND_RETRY_MAX_DELAY', DEFAULT_BACKEND_RETRY_MAX_DELAY);
  const maxTotalMs = r.durationMs('SIDESTASH_BACKEND_RETRY_TOTAL', DEFAULT_BACKEND_RETRY_TOTAL, MAX_BACKEND_RETRY_TOTAL_MS);
  if (maxDelayMs > maxTotalMs) r.problems.push(`SIDESTASH_BACKEND_RETRY_MAX_DELAY: ${maxDelayMs} ms is longer than SIDESTASH_BACKEND_RETRY_TOTAL (${maxTotalMs} ms)`);
  out.backendRetry = { maxDelayMs, maxTotalMs };
  return out;
}

/** The retry policy of the agent's S3/REST backends: tries until the window closes, backing off up to maxDelayMs. */
export function agentRetryPolicy(settings: BackendSettings): RetryPolicy {
  const { maxDelayMs, maxTotalMs } = settings.backendRetry ?? { maxDelayMs: 30_000, maxTotalMs: 300_000 };
  return { attempts: Number.POSITIVE_INFINITY, baseDelayMs: 200, maxDelayMs, maxTotalMs };
}

/** The agent's limit is one bucket for the whole process: concurrent sessions share it. */
const agentBuckets = new Map<number, TokenBucket>();

export function agentUploadBucket(limitKiBps: number): TokenBucket {
  let b = agentBuckets.get(limitKiBps);
  if (!b) agentBuckets.set(limitKiBps, (b = uploadBucket(limitKiBps)));
  return b;
}

/**
 * How a backup opens its backend: the agent's retry policy; the configuration's upload limit
 * for this session's uploads, and the agent's, shared by all its sessions: the lower holds.
 * The assignment's value is checked again here (it crossed the network): a bad one fails the
 * session rather than running unlimited.
 */
export function backupBackendOptions(settings: BackendSettings, assignmentLimitKiBps: unknown): OpenBackendOptions {
  if (assignmentLimitKiBps !== undefined) {
    const problem = limitUploadProblem(assignmentLimitKiBps);
    if (problem) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `the assignment's limitUploadKiBps ${problem}`);
  }
  return {
    retry: agentRetryPolicy(settings),
    ...(assignmentLimitKiBps !== undefined ? { limitUploadKiBps: assignmentLimitKiBps as number } : {}),
    ...(settings.limitUploadKiBps !== undefined ? { sharedUploadLimits: [agentUploadBucket(settings.limitUploadKiBps)] } : {}),
  };
}
