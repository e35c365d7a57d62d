// A page of a list whose filters can only be applied to decoded documents (a label selector; the
// field filters of sealed Secrets): the rows are read in chunks in the list's order and decoded
// only until the page is full, instead of decoding every row after the page's start for each
// page (a paged `get -l` over n sessions decoded O(n) documents per page, O(n^2) in all, each
// page one block of the event loop that serves every agent).

/** How many rows to read at a time for a page of `limit`. */
export function chunkRows(limit: number): number {
  return Math.min(10_000, Math.max(256, 2 * limit));
}

/**
 * The first `limit` rows that `accept` turns into an item, reading `chunk` rows at a time after
 * a position (undefined: from the start) until a chunk comes back short.
 */
export function decodedPage<R, T, P>(limit: number, start: P | undefined, read: (after: P | undefined, chunk: number) => R[], positionOf: (row: R) => P, accept: (row: R) => T | undefined): T[] {
  const out: T[] = [];
  const chunk = chunkRows(limit);
  let after = start;
  for (;;) {
    const rows = read(after, chunk);
    for (const row of rows) {
      const item = accept(row);
      if (item === undefined) continue;
      out.push(item);
      if (out.length >= limit) return out;
    }
    if (rows.length < chunk) return out;
    after = positionOf(rows[rows.length - 1]!);
  }
}
