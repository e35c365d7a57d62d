// Which packs `check --read-data-subset` reads, with restic's semantics (cmd/restic/cmd_check.go):
// - "n/m": the packs whose id's first byte modulo m is n-1 (bucket n of m; 1 <= n <= m <= 256),
//   so that n = 1..m together read every pack exactly once, and a given n/m always reads the
//   same packs of a given repository;
// - "x%": a random x percent of the packs (0 < x <= 100), rounded down, at least one pack
//   when there are any.
// Stricter than restic where restic's parsers accept what no one means: the percentage is a
// plain decimal (restic's Go ParseFloat also takes "1e1", "0x1p3", "nan" and "inf"), and
// restic's size form ("500M") is refused, so that a value reads the same on every version.
import { ErrorCodes, SidestashError } from '../errors.ts';
import type { Id } from './ids.ts';

/** restic's totalBucketsMax: buckets are taken from one byte of the pack id. */
export const MAX_BUCKETS = 256;

export type ReadDataSubset = { kind: 'bucket'; bucket: number; totalBuckets: number } | { kind: 'percent'; percent: number };

const BUCKET = /^(\d+)\/(\d+)$/;
const PERCENT = /^(\d+(?:\.\d*)?|\.\d+)%$/;
const MAX_TEXT_CHARS = 32;

/** Why `text` is not a read-data subset, or undefined when it is one. */
export function readDataSubsetProblem(text: unknown): string | undefined {
  const parsed = parse(text);
  return typeof parsed === 'string' ? parsed : undefined;
}

/** The subset `text` names; INVALID_ARGUMENT with the reason when it names none. */
export function parseReadDataSubset(text: unknown): ReadDataSubset {
  const parsed = parse(text);
  if (typeof parsed === 'string') throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `read-data subset ${describe(text)} ${parsed}`);
  return parsed;
}

function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v.length > MAX_TEXT_CHARS ? `${v.slice(0, MAX_TEXT_CHARS)}…` : v) : typeof v;
}

function parse(text: unknown): ReadDataSubset | string {
  const usage = 'must be "n/m" (bucket n of m, 1 <= n <= m <= 256, e.g. "1/7") or "x%" (0 < x <= 100, e.g. "5%" or "2.5%")';
  if (typeof text !== 'string' || text.length > MAX_TEXT_CHARS) return usage;
  const bucket = BUCKET.exec(text);
  if (bucket) {
    const n = Number(bucket[1]);
    const m = Number(bucket[2]);
    if (n < 1 || m < 1 || n > m) return 'must have positive integers n <= m in "n/m", e.g. "1/2"';
    if (m > MAX_BUCKETS) return `must have m at most ${MAX_BUCKETS} in "n/m"`;
    return { kind: 'bucket', bucket: n, totalBuckets: m };
  }
  const percent = PERCENT.exec(text);
  if (percent) {
    const x = Number(percent[1]);
    if (!(x > 0 && x <= 100)) return 'must have x above 0 and at most 100 in "x%"';
    return { kind: 'percent', percent: x };
  }
  return usage;
}

/**
 * The packs of `packIds` the subset reads. `random` (a uniform number in [0, 1)) chooses the
 * packs of a percentage; n/m needs none.
 */
export function selectPacks(packIds: Iterable<Id>, subset: ReadDataSubset, random: () => number = Math.random): Id[] {
  const all = [...packIds];
  if (subset.kind === 'bucket') {
    return all.filter((id) => parseInt(id.slice(0, 2), 16) % subset.totalBuckets === subset.bucket - 1);
  }
  // restic: int(float64(packCount) * (percentage / 100.0)), at least one when there are packs.
  let count = Math.trunc(all.length * (subset.percent / 100));
  if (all.length > 0 && count < 1) count = 1;
  // The first `count` places of a Fisher-Yates shuffle: a uniform choice of distinct packs.
  for (let i = 0; i < count; i++) {
    const j = i + Math.min(all.length - i - 1, Math.floor(random() * (all.length - i)));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, count);
}
