// Small helpers for bounded concurrency.

/**
 * Maps items with at most `limit` calls in flight; results keep the input order. After the
 * first failure no further call starts, and the promise rejects with that failure only once
 * the calls in flight have settled (so a caller's clean-up, e.g. aborting a multipart upload,
 * never races with work still running).
 */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (err) {
        if (!failed) failure = err;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failure;
  return results;
}
