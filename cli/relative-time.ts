// Times relative to now for tables: "3h ago", "in 26m", "now". Same units as kubectl's AGE
// (seconds below 2 minutes, minutes below 2 hours, hours below 2 days, then days).

/** A span of seconds in one unit: "45s", "26m", "3h", "4d". */
export function shortDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

/** "3h ago" for a past time, "in 26m" for a future one, "now" within a second, "-" when absent or unparseable. */
export function relativeTime(iso: string | undefined, nowMs: number): string {
  if (typeof iso !== 'string') return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '-';
  const deltaS = (t - nowMs) / 1000;
  if (Math.abs(deltaS) < 1) return 'now';
  return deltaS > 0 ? `in ${shortDuration(deltaS)}` : `${shortDuration(-deltaS)} ago`;
}
