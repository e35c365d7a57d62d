// Optimistic concurrency's loop: read, decide, write with the version read; when another
// writer came first (CONFLICT, retryable: a stale resourceVersion), read again and decide
// again. `fn` must do all three each time, so that each try decides on fresh state.
// A CONFLICT that is not retryable (a name taken, a session no longer Running) is an answer,
// not a race: it is thrown at once.
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';

export const DEFAULT_CONFLICT_ATTEMPTS = 8;

/** Whether `err` says only that the object changed since it was read. */
export function isStaleVersion(err: unknown): boolean {
  return isSidestashError(err, ErrorCodes.CONFLICT) && err.retryable;
}

/** Runs `fn` until it does not fail with a stale version, at most `attempts` times (then its last error). */
export async function retryOnConflict<T>(fn: () => Promise<T>, options: { attempts?: number } = {}): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? DEFAULT_CONFLICT_ATTEMPTS);
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !isStaleVersion(err)) throw err;
    }
  }
}
