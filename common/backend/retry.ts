// Retries with exponential backoff and jitter for backend calls whose errors say `retryable`
// (5xx, throttling, connection resets). Bodies are in-memory buffers, so every retry resends
// the whole request. A server's Retry-After (429, 503; carried as details.retryAfterMs) is
// honoured up to maxRetryAfterMs: the next try waits at least that long.
import { ErrorCodes, SidestashError, abortError, isSidestashError } from '../errors.ts';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** The longest Retry-After honoured (a longer one waits this long); default 30 s. */
  maxRetryAfterMs?: number;
  /**
   * The retry window: how long after a call's first failure it keeps trying (long outages on
   * thin links). A retry that would start later gives up with the last error, retryable.
   * Absent: only `attempts` bounds the tries.
   */
  maxTotalMs?: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 200, maxDelayMs: 10_000 };
export const DEFAULT_MAX_RETRY_AFTER_MS = 30_000;

/**
 * A Retry-After header (RFC 9110: delay-seconds or an HTTP-date) as milliseconds from nowMs;
 * undefined when absent or not understood. A date in the past means 0.
 */
export function parseRetryAfterMs(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d{1,9}$/.test(v)) return Number(v) * 1000;
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * How long to wait before try `attempt + 1`: exponential backoff with jitter (`random` in
 * [0, 1)), but at least the server's Retry-After, capped at maxRetryAfterMs.
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy, retryAfterMs: number | undefined, random: number): number {
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + random / 2);
  if (retryAfterMs === undefined) return backoff;
  return Math.max(backoff, Math.min(retryAfterMs, policy.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS));
}

/** Waits ms; rejects with ABORTED when the signal aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortError(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Whether a retry that would start `delayMs` from now falls outside the retry window, which
 * opened at the first failure (`failingForMs` ago). Pure, for tables.
 */
export function outsideRetryWindow(policy: RetryPolicy, failingForMs: number, delayMs: number): boolean {
  return policy.maxTotalMs !== undefined && failingForMs + delayMs > policy.maxTotalMs;
}

/**
 * Calls fn until it succeeds, fails for good, or the policy's attempts or retry window run
 * out; then the last error, retryable, with how long it failed. `where` names the backend in
 * that message (the repository location, no secrets).
 */
export async function withRetry<T>(what: string, policy: RetryPolicy, signal: AbortSignal | undefined, fn: () => Promise<T>, where?: string): Promise<T> {
  let firstFailureMs: number | undefined;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortError(signal);
    try {
      return await fn();
    } catch (err) {
      if (!isSidestashError(err) || !err.retryable || attempt >= policy.attempts) {
        if (isSidestashError(err) && err.retryable && attempt >= policy.attempts) {
          throw new SidestashError(err.code, `${what}: giving up after ${attempt} attempts: ${err.message}`, { retryable: true, cause: err, details: err.details });
        }
        throw err;
      }
      const nowMs = performance.now();
      firstFailureMs ??= nowMs;
      const retryAfterMs = typeof err.details.retryAfterMs === 'number' ? err.details.retryAfterMs : undefined;
      const delayMs = retryDelayMs(attempt, policy, retryAfterMs, Math.random());
      if (outsideRetryWindow(policy, nowMs - firstFailureMs, delayMs)) {
        const failingS = Math.round((nowMs - firstFailureMs) / 100) / 10;
        throw new SidestashError(err.code, `${what}${where ? ` (${where})` : ''}: the backend kept failing for ${failingS} s (${attempt} attempts; retry window ${policy.maxTotalMs! / 1000} s); last error: ${err.message}`, {
          retryable: true,
          cause: err,
          details: { ...err.details, attempts: attempt, failingMs: Math.round(nowMs - firstFailureMs), ...(where ? { backend: where } : {}) },
        });
      }
      await sleep(delayMs, signal);
    }
  }
}

/** Network-level failures worth another try. */
export function networkError(what: string, err: unknown): SidestashError {
  const code = (err as { code?: string }).code ?? '';
  return new SidestashError(ErrorCodes.BACKEND_IO, `${what}: ${(err as Error).message || code}`, {
    retryable: !['ERR_INVALID_URL', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN'].includes(code),
    cause: err,
  });
}
