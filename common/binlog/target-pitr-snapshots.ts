// A target's snapshots as point-in-time recovery sees them: its dumps that record binlog
// coordinates, with when each was taken, and its archived binlog files. The one reading that the
// restore planner's input, binlog retention and where a new archive chain starts all share.
import type { TargetRef } from '../repository/snapshot-selector.ts';
import { snapshotOwnership } from '../repository/snapshot-selector.ts';
import { binlogFileRecord, dumpCoordinates, isBinlogSnapshot } from './archive-layout.ts';
import type { BinlogFileRecord, DumpCoordinates } from './archive-layout.ts';

export interface CoordinatedDump {
  snapshotId: string;
  coordinates: DumpCoordinates;
  /** When it was taken (unix ms): when the agent read its coordinates (at or after the dump's consistent point), else the snapshot's time. */
  takenAtMs: number;
  /** The same as RFC 3339 (the snapshot's own text when there is no reading time). */
  time: string;
}

export function targetPitrSnapshots(snapshots: readonly { id: string; time: string; hostname?: string | undefined; tags?: readonly string[] | null | undefined }[], target: TargetRef): { dumps: CoordinatedDump[]; files: BinlogFileRecord[] } {
  const dumps: CoordinatedDump[] = [];
  const files: BinlogFileRecord[] = [];
  for (const s of snapshots) {
    if (snapshotOwnership(s, target) !== 'target') continue;
    if (isBinlogSnapshot(s)) {
      // A snapshot that says it is an archive but does not parse is left alone (and never read).
      const r = binlogFileRecord(s);
      if (r) files.push(r);
      continue;
    }
    const coordinates = dumpCoordinates(s);
    if (!coordinates) continue;
    const seen = coordinates.seenAtMs;
    dumps.push({ snapshotId: s.id, coordinates, takenAtMs: seen ?? Date.parse(s.time), time: seen !== undefined ? new Date(seen).toISOString() : s.time });
  }
  return { dumps, files };
}
