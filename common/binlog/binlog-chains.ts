// The archived binary-log files of a target as chains: what the point-in-time planner
// (pitr-plan.ts) walks. Records come from untrusted snapshots: each parsed against the allow-lists
// of archive-layout.ts, but their relations can lie (several records of one file, two chains
// claiming one file name, gaps). This file only groups them; pitr-plan.ts decides.
import { SERVER_AGENT_CLOCK_MARGIN_MS } from './archive-layout.ts';
import type { BinlogFileRecord, DumpCoordinates, Gtid } from './archive-layout.ts';

/** One chain's files, one record per file, in sequence order. */
export interface BinlogChain {
  chain: string;
  files: BinlogFileRecord[];
  /** The newest snapshot time among its records (RFC 3339 compared as instants). */
  newestMs: number;
}

const timeMs = (r: BinlogFileRecord): number => {
  const ms = Date.parse(r.time);
  return Number.isFinite(ms) ? ms : 0;
};

/**
 * Of several records of one file in one chain (the archiver replaces the active file's snapshot at
 * every flush; a lost delete leaves the older one), the one with the larger binlog-end: its bytes
 * are a prefix-extension of the other's. On a tie a closed one, then the newer, then the smaller
 * snapshot id (so that the choice does not depend on listing order).
 */
function better(a: BinlogFileRecord, b: BinlogFileRecord): BinlogFileRecord {
  if (a.endPosition !== b.endPosition) return a.endPosition > b.endPosition ? a : b;
  if (a.closed !== b.closed) return a.closed ? a : b;
  if (timeMs(a) !== timeMs(b)) return timeMs(a) > timeMs(b) ? a : b;
  return a.snapshotId < b.snapshotId ? a : b;
}

/** Groups records by chain, one record per file (better()), each chain's files by sequence. */
export function binlogChains(records: readonly BinlogFileRecord[]): BinlogChain[] {
  const byChain = new Map<string, Map<string, BinlogFileRecord>>();
  for (const r of records) {
    const files = byChain.get(r.chain) ?? byChain.set(r.chain, new Map()).get(r.chain)!;
    const had = files.get(r.file);
    files.set(r.file, had ? better(had, r) : r);
  }
  return [...byChain.entries()].map(([chain, files]) => {
    // Two names with one number (mysql-bin.000007, other.000007) in one chain: the sequence
    // check of the walk sees the second as no successor; sorted by name too, for a stable order.
    const list = [...files.values()].sort((a, b) => a.sequence - b.sequence || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    return { chain, files: list, newestMs: Math.max(...list.map(timeMs)) };
  });
}

/** The sequence number for a domain in a GTID list (0 when the domain has none). */
export function seqIn(list: readonly Gtid[], domain: number): bigint {
  return list.find((g) => g.domain === domain)?.seq ?? 0n;
}


/**
 * Whether a chain's record of the dump's file can hold the dump's coordinates. A file of that name
 * can be another server's or another life's (RESET MASTER, a data directory rebuilt after a
 * disaster numbers its files from 1 again, and its new archive chain is the newest): replaying it
 * from the old dump's position would apply another server's transactions. So the file must be
 * - archived at least up to the position, and written by the dump's server (when the dump says);
 * - not started after the dump: its Gtid_list not past the dump's GTID state (where both know the
 *   domain), and its first event not stamped later than the dump was taken (when both are known,
 *   with a margin for the two clocks);
 * - reaching the dump's GTID state: for every domain of the dump, the file's GTIDs (its
 *   Gtid_list or its last GTID) go at least as far, as the file the dump was taken in must.
 */
export function recordHoldsDump(r: BinlogFileRecord, c: DumpCoordinates): boolean {
  if (r.file !== c.file || r.endPosition < c.position) return false;
  // The server the dump was taken on wrote the file (its format description's server id).
  if (c.serverId !== undefined && r.serverId !== c.serverId) return false;
  if (!r.gtidStart.every((g) => !c.gtid.some((d) => d.domain === g.domain) || g.seq <= seqIn(c.gtid, g.domain))) return false;
  if (c.seenAtMs !== undefined && r.firstEventTime !== undefined && r.firstEventTime * 1000 > c.seenAtMs + SERVER_AGENT_CLOCK_MARGIN_MS) return false;
  return c.gtid.every((d) => {
    const reached = seqIn(r.gtidEnd, d.domain) > seqIn(r.gtidStart, d.domain) ? seqIn(r.gtidEnd, d.domain) : seqIn(r.gtidStart, d.domain);
    return reached >= d.seq;
  });
}

/**
 * The chain that holds the dump's coordinates. When two chains both claim the dump's file
 * (RESET MASTER, or a restored server numbering its files from 1 again, started a new chain that
 * reuses the names), the newest chain wins: the dump is the newest one before the target, taken
 * from the server as it was then, which is the most recent life of that file name; an older
 * chain's file of the same name is an earlier life whose later files the newer chain replaced.
 * Ties (same newest time) go to the smaller chain id, so that the choice is stable.
 */
export function chainOfDump(chains: readonly BinlogChain[], c: DumpCoordinates): BinlogChain | { ambiguous: BinlogChain[] } | undefined {
  const holding = chains.filter((ch) => ch.files.some((r) => recordHoldsDump(r, c)));
  holding.sort((a, b) => b.newestMs - a.newestMs || (a.chain < b.chain ? -1 : 1));
  // Chains of different servers both holding the dump's file (a promoted replica's own binlog
  // holds the same replicated GTIDs at other byte offsets): which one the dump's position is in
  // cannot be told without the dump's server id, and guessing replays another server's file.
  const servers = new Set(holding.map((ch) => ch.files.find((r) => recordHoldsDump(r, c))!.serverId));
  if (servers.size > 1) return { ambiguous: holding };
  return holding[0];
}
