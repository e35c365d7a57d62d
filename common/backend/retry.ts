// Retries with exponential backoff and jitter for backend calls whose errors say `retryable`
// (5xx, throttling, connection resets). Bodies are in-memory buffers, so every retry resends
// the whole request.
import { ErrorCodes, SidestashError, abortError, isSidestashError } from '../errors.ts';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 200, maxDelayMs: 10_000 };

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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

export async function withRetry<T>(what: string, policy: RetryPolicy, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
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
      const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      await sleep(delay, signal);
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
