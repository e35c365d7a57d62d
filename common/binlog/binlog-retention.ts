// Which archived binlog files retention may forget, as a pure function of the repository's
// snapshots (plan purely, then execute: agent/binlog-retention-step.ts forgets them after the
// dumps' own retention, and prune frees their data).
//
// A binlog file is needed while a point-in-time restore could replay it: from a kept dump's
// coordinates on. So a file may go when it ended before the oldest kept dump was taken: it is
// closed (the server rotated past it), its last event is older than that dump by a safety
// margin (event times are the server's clock, the dump's time the agent's), and it is not the
// file the dump's coordinates name. A snapshot another one of the same chain and file
// supersedes (the archiver replaces the open file's snapshot at every flush, and a crash between
// saving the new one and removing the old one leaves both) may always go.
//
// Nothing is forgotten while no kept dump records coordinates: without a dump to start from
// the archive cannot be judged, and deleting is the one mistake that cannot be undone.
import { SERVER_AGENT_CLOCK_MARGIN_MS } from './archive-layout.ts';
import type { BinlogFileRecord, DumpCoordinates } from './archive-layout.ts';


export interface KeptDump {
  snapshotId: string;
  coordinates: DumpCoordinates;
  /** When it was taken (unix ms): coordinates.seenAtMs, else the snapshot's time. */
  takenAtMs: number;
}

export interface BinlogRetentionPlan {
  forget: { record: BinlogFileRecord; reason: string }[];
  keep: BinlogFileRecord[];
}

export function planBinlogRetention(kept: readonly KeptDump[], records: readonly BinlogFileRecord[]): BinlogRetentionPlan {
  const forget: BinlogRetentionPlan['forget'] = [];
  const live: BinlogFileRecord[] = [];
  // The newest snapshot of each chain's file (the largest archived end; ties: the newest).
  const newest = new Map<string, BinlogFileRecord>();
  for (const r of records) {
    const key = `${r.chain}\u0000${r.file}`;
    const cur = newest.get(key);
    if (!cur || r.endPosition > cur.endPosition || (r.endPosition === cur.endPosition && r.time > cur.time)) newest.set(key, r);
  }
  for (const r of records) {
    const best = newest.get(`${r.chain}\u0000${r.file}`)!;
    if (best !== r) forget.push({ record: r, reason: `superseded by snapshot ${best.snapshotId.slice(0, 8)} of ${r.file} (${best.endPosition} bytes)` });
    else live.push(r);
  }
  if (kept.length === 0) return { forget, keep: live };
  const oldest = kept.reduce((a, b) => (b.takenAtMs < a.takenAtMs ? b : a));
  const keep: BinlogFileRecord[] = [];
  for (const r of live) {
    const endedMs = r.lastEventTime === undefined ? undefined : r.lastEventTime * 1000;
    if (r.closed && endedMs !== undefined && endedMs < oldest.takenAtMs - SERVER_AGENT_CLOCK_MARGIN_MS && r.file !== oldest.coordinates.file) {
      forget.push({ record: r, reason: `ended before the oldest kept dump (${oldest.snapshotId.slice(0, 8)}, taken at ${oldest.coordinates.file}:${oldest.coordinates.position})` });
    } else keep.push(r);
  }
  return { forget, keep };
}
