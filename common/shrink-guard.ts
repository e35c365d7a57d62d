// The shrink guard: a dump far smaller than the previous one of the same BackupConfiguration
// is stored but marked suspicious (rows deleted by mistake or by an attacker, a wrong database
// selection), and retention is skipped for that run so that older, larger backups survive.

/** Default threshold: a dump under 50% of the previous one is suspicious. */
export const DEFAULT_SHRINK_GUARD_PERCENT = 50;

export interface ShrinkVerdict {
  suspicious: boolean;
  /** The new dump's size as a percentage of the previous one (one decimal). */
  percent: number;
}

/**
 * Compares a new dump with the previous one. `thresholdPercent` 0 disables the guard; without a
 * previous size (first backup) nothing is suspicious.
 */
export function shrinkVerdict(previousBytes: number | undefined, currentBytes: number, thresholdPercent: number): ShrinkVerdict | undefined {
  if (previousBytes === undefined || !Number.isFinite(previousBytes) || previousBytes <= 0) return undefined;
  const percent = Math.round((currentBytes / previousBytes) * 1000) / 10;
  const suspicious = thresholdPercent > 0 && currentBytes * 100 < previousBytes * thresholdPercent;
  return { suspicious, percent };
}

/** One line for a terminal or a log: what the guard found. */
export function describeSuspiciousShrink(s: { percent: number; bytes: number; previousBytes: number; previousSnapshotId: string; thresholdPercent: number }): string {
  return `suspicious shrink: the dump is ${s.percent}% of the previous one (${s.bytes} of ${s.previousBytes} bytes, snapshot ${s.previousSnapshotId.slice(0, 8)}; threshold ${s.thresholdPercent}%); retention was skipped`;
}
