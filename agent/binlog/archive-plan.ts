// Pure decisions of the binlog archiver (binlog-archiver.ts does the I/O): where to resume from
// what the repository holds, what one event of the replication stream is to the archive, and
// whether a new file's GTID state follows the chain's.
import type { BinlogFileRecord, Gtid } from '../../common/binlog/archive-layout.ts';
import { binlogFileSequence } from '../../common/binlog/archive-layout.ts';
import { EventType, LOG_EVENT_ARTIFICIAL_F } from '../../common/binlog/binlog-events.ts';
import type { EventHeader } from '../../common/binlog/binlog-events.ts';
import { compareTime } from '../../common/repository/snapshot.ts';

export interface ResumePoint {
  chain: string;
  serverId: number;
  /** The file to stream next and the position to stream it from (its archived end, or 4). */
  file: string;
  position: number;
  /** The snapshot of `file` to append to (absent when the file starts afresh at 4). */
  resumeFrom?: BinlogFileRecord;
  /** Other snapshots of `file` in the chain, left by a crash between a save and a removal. */
  supersedes: string[];
  /** The last GTID of each domain archived in the chain (what the next file's Gtid_list must hold). */
  chainGtids: Gtid[];
}

/** `mysql-bin.000042` -> `mysql-bin.000043` (the width kept, as the server numbers them). */
export function nextFileName(file: string): string | undefined {
  const m = /^(.*\.)([0-9]+)$/.exec(file);
  if (!m || binlogFileSequence(file) === undefined) return undefined;
  const next = String(Number(m[2]) + 1).padStart(m[2]!.length, '0');
  const name = `${m[1]}${next}`;
  return binlogFileSequence(name) === undefined ? undefined : name;
}

/** Merges GTID lists: a later list's GTID replaces an earlier one of its domain. */
export function mergeGtids(...lists: readonly (readonly Gtid[])[]): Gtid[] {
  const byDomain = new Map<number, Gtid>();
  for (const list of lists) for (const g of list) byDomain.set(g.domain, g);
  return [...byDomain.values()].sort((a, b) => a.domain - b.domain);
}

/**
 * Where the archiver goes on: the newest chain (the one whose newest snapshot is newest), its
 * file of the highest number, that file's snapshot with the largest end (a crash may have left
 * two). A closed file means the next file from its start. Undefined: no chain, start a new one.
 */
export function planResume(records: readonly BinlogFileRecord[]): ResumePoint | undefined {
  if (records.length === 0) return undefined;
  const newest = [...records].sort((a, b) => compareTime(a.time, b.time) || a.sequence - b.sequence || a.endPosition - b.endPosition).at(-1)!;
  const chain = records.filter((r) => r.chain === newest.chain).sort((a, b) => a.sequence - b.sequence || Number(a.closed) - Number(b.closed) || a.endPosition - b.endPosition);
  const last = chain.at(-1)!;
  const chainGtids = mergeGtids(...chain.map((r) => r.gtidEnd));
  const sameFile = chain.filter((r) => r.sequence === last.sequence && r.snapshotId !== last.snapshotId).map((r) => r.snapshotId);
  if (last.closed) {
    const next = nextFileName(last.file);
    if (next === undefined) return undefined;
    return { chain: last.chain, serverId: last.serverId, file: next, position: 4, supersedes: [], chainGtids };
  }
  return { chain: last.chain, serverId: last.serverId, file: last.file, position: last.endPosition, resumeFrom: last, supersedes: sameFile, chainGtids };
}

/** Whether a new file's Gtid_list holds the chain's last GTID of every domain (else events are missing: a gap). */
export function gtidListFollows(chainGtids: readonly Gtid[], gtidList: readonly Gtid[]): boolean {
  return chainGtids.every((g) => gtidList.some((l) => l.domain === g.domain && l.serverId === g.serverId && l.seq === g.seq));
}

export type EventRole =
  /** The stream's own rotate: which file and position come next (not file content). */
  | 'stream-rotate'
  /** The format description the server resends when a stream starts past 4 (not file content). */
  | 'resent-format'
  | 'heartbeat'
  /** Made by the server for the stream, not in the file: skipped. */
  | 'artificial'
  /** Bytes of the file. */
  | 'content';

/** What an event of the replication stream is to the archive. */
export function eventRole(h: EventHeader): EventRole {
  if (h.type === EventType.HEARTBEAT) return 'heartbeat';
  if (h.type === EventType.ROTATE && ((h.flags & LOG_EVENT_ARTIFICIAL_F) !== 0 || h.logPos === 0)) return 'stream-rotate';
  if (h.type === EventType.FORMAT_DESCRIPTION && h.logPos === 0) return 'resent-format';
  if ((h.flags & LOG_EVENT_ARTIFICIAL_F) !== 0) return 'artificial';
  return 'content';
}

/** A content event's place: undefined when it follows the archived bytes, else why it does not. */
export function contentGap(h: EventHeader, archivedBytes: number): string | undefined {
  const start = h.logPos - h.eventSize;
  if (start === archivedBytes) return undefined;
  return start > archivedBytes
    ? `${start - archivedBytes} bytes are missing before the event at ${start} (archived up to ${archivedBytes})`
    : `the event at ${start} overlaps the ${archivedBytes} bytes archived`;
}
