// Figures for the fleet benchmark: nearest-rank percentiles of call latencies, and how many
// sessions started in each second (the schedule jitter's spread).

/** The p-th percentile (0 < p <= 100) by nearest rank; NaN for no values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarizeLatency(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.length === 0 ? NaN : sorted[sorted.length - 1]! };
}

export interface Spread {
  /** Seconds from the first start to the last. */
  spanSeconds: number;
  maxPerSecond: number;
  /** Starts per `bucketSeconds` from the first one. */
  buckets: number[];
  bucketSeconds: number;
}

/** How start times (epoch ms) spread: the busiest second and a histogram of `bucketSeconds` buckets. */
export function spreadOf(startsMs: readonly number[], bucketSeconds: number): Spread {
  if (startsMs.length === 0) return { spanSeconds: 0, maxPerSecond: 0, buckets: [], bucketSeconds };
  const first = Math.min(...startsMs);
  const perSecond = new Map<number, number>();
  const buckets: number[] = [];
  for (const t of startsMs) {
    const s = Math.floor((t - first) / 1000);
    perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    const b = Math.floor(s / bucketSeconds);
    while (buckets.length <= b) buckets.push(0);
    buckets[b]!++;
  }
  return { spanSeconds: (Math.max(...startsMs) - first) / 1000, maxPerSecond: Math.max(...perSecond.values()), buckets, bucketSeconds };
}

/** How many of `intervals` ([start, end) in ms) overlap at most at once. */
export function maxConcurrent(intervals: readonly { startMs: number; endMs: number }[]): number {
  const edges = intervals.flatMap((i) => [{ t: i.startMs, d: 1 }, { t: i.endMs, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
  let cur = 0;
  let max = 0;
  for (const e of edges) {
    cur += e.d;
    max = Math.max(max, cur);
  }
  return max;
}
