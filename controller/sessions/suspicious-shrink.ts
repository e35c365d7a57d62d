// The shrink guard's finding in an agent's result: type-checked field by field (an agent's
// report is untrusted), recorded on the session only when every field is sound.
import type { SessionResult, SuspiciousShrink } from '../../common/protocol.ts';

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

export function suspiciousShrinkOf(result: SessionResult): SuspiciousShrink | undefined {
  if (result.phase !== 'Succeeded') return undefined;
  const s = (result as { suspiciousShrink?: unknown }).suspiciousShrink;
  if (!s || typeof s !== 'object') return undefined;
  const r = s as Record<string, unknown>;
  if (typeof r.previousSnapshotId !== 'string' || !/^[0-9a-f]{64}$/.test(r.previousSnapshotId)) return undefined;
  if (!isCount(r.previousBytes) || !isCount(r.bytes) || !isCount(r.percent) || !isCount(r.thresholdPercent)) return undefined;
  return { previousSnapshotId: r.previousSnapshotId, previousBytes: r.previousBytes, bytes: r.bytes, percent: r.percent, thresholdPercent: r.thresholdPercent };
}

