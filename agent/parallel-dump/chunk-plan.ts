// A table's rows cut into ranges of its integer key, each about chunkRows rows (by the server's
// row estimate, or the key's span when the estimate is 0), read by one connection each. The
// first range has no lower bound and the last no upper bound, so every row of the snapshot is
// in exactly one range whatever the estimate said. Pure.
import { quoteName } from './sql-text.ts';

export interface KeyRange {
  /** Inclusive lower bound; undefined: none. */
  from?: bigint;
  /** Exclusive upper bound; undefined: none. */
  to?: bigint;
}

/** At most this many ranges a table (the rest of the table goes into the last ones). */
export const MAX_CHUNKS_PER_TABLE = 100_000;

/** Ranges over [min, max] of the key; one unbounded range for an empty table or a small one. */
export function planRanges(min: bigint | undefined, max: bigint | undefined, rowsEstimate: number, chunkRows: number): KeyRange[] {
  if (min === undefined || max === undefined || max < min) return [{}];
  const span = max - min + 1n;
  const estimate = rowsEstimate > 0 ? BigInt(Math.ceil(rowsEstimate)) : span;
  const rows = estimate < span ? estimate : span;
  let count = (rows + BigInt(chunkRows) - 1n) / BigInt(Math.max(1, chunkRows));
  if (count > BigInt(MAX_CHUNKS_PER_TABLE)) count = BigInt(MAX_CHUNKS_PER_TABLE);
  if (count <= 1n) return [{}];
  const step = (span + count - 1n) / count;
  const ranges: KeyRange[] = [];
  for (let lo = min; lo <= max; lo += step) {
    const hi = lo + step;
    ranges.push({ ...(lo === min ? {} : { from: lo }), ...(hi > max ? {} : { to: hi }) });
  }
  return ranges;
}

/** The WHERE clause of a range (and of the dump's --where condition, as data: already checked). */
export function rangeCondition(column: string | undefined, range: KeyRange, where: string | undefined): string {
  const parts: string[] = [];
  if (column !== undefined && range.from !== undefined) parts.push(`${quoteName(column)} >= ${range.from}`);
  if (column !== undefined && range.to !== undefined) parts.push(`${quoteName(column)} < ${range.to}`);
  if (where !== undefined) parts.push(`(${where})`);
  return parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : '';
}
