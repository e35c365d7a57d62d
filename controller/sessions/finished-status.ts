// A session's status once it ends with `result` at `nowMs`: the phase, when it finished, how long
// it ran, and what the agent measured. Pure; the session manager writes it.
import type { SessionResult } from '../../common/protocol.ts';
import type { SessionStatus } from '../resources/types.ts';
import { suspiciousShrinkOf } from './suspicious-shrink.ts';

export function finishedStatus(current: SessionStatus | undefined, kind: string, result: SessionResult, nowMs: number): SessionStatus {
  const status: SessionStatus = { ...(current ?? { phase: 'Pending' }), phase: result.phase, finishedAt: new Date(nowMs).toISOString() };
  delete status.leaseExpiresAt;
  if (status.startedAt) status.durationSeconds = result.durationSeconds ?? (nowMs - Date.parse(status.startedAt)) / 1000;
  if (result.snapshotId !== undefined) status.snapshotId = result.snapshotId;
  if (result.bytesRead !== undefined) status.bytesRead = result.bytesRead;
  if (result.bytesStored !== undefined) status.bytesStored = result.bytesStored;
  if (result.retention !== undefined) status.retention = result.retention;
  if (result.repositoryStats !== undefined) status.repositoryStats = result.repositoryStats;
  if (result.error !== undefined) status.error = result.error;
  if (result.processingSeconds !== undefined) status.processingSeconds = result.processingSeconds;
  if (result.files !== undefined) status.files = result.files;
  if (result.binlogCoordinates !== undefined && kind === 'BackupSession') status.binlogCoordinates = result.binlogCoordinates;
  if (result.tables !== undefined && kind === 'RestoreSession') status.tables = result.tables;
  const shrink = suspiciousShrinkOf(result);
  if (shrink) status.suspiciousShrink = shrink;
  if (result.integrity !== undefined && result.phase === 'Succeeded' && kind === 'BackupSession') status.integrity = result.integrity;
  // 100% once Succeeded (and only then), also for a session that ended before its first report.
  if (result.phase === 'Succeeded') {
    const done = result.bytesRead ?? status.progress?.bytesDumped ?? 0;
    status.progress = { ...(status.progress ?? { bytesDumped: done, bytesStored: result.bytesStored ?? 0, rateBytesPerSecond: status.durationSeconds ? done / status.durationSeconds : 0 }), updatedAt: status.finishedAt!, percent: 100 };
  }
  return status;
}
