// The point-in-time restore plan, decided purely (house style: plan, then execute): which dump
// to load, then which archived binary-log files to replay from the dump's coordinates, and where
// to stop. The agent executes it (agent/binlog/binlog-replay.ts replays one step).
//
// Inputs are untrusted (snapshots anyone with the repository password can write): the records
// are parsed already (archive-layout.ts), but how they relate can lie; every relation the plan
// relies on is checked here, and a plan that cannot be trusted to reach the target is refused
// with a reason code and a message for the DBA, never guessed.
import { ErrorCodes, SidestashError } from '../errors.ts';
import { formatGtid } from './archive-layout.ts';
import type { BinlogFileRecord, DumpCoordinates, Gtid } from './archive-layout.ts';
import { binlogChains, chainOfDump, seqIn } from './binlog-chains.ts';
import type { BinlogChain } from './binlog-chains.ts';

export interface DumpCandidate {
  snapshotId: string;
  /** When the dump's consistent snapshot was taken (RFC 3339). */
  time: string;
  coordinates: DumpCoordinates;
}

export type PitrTarget =
  /** The state with every transaction committed before this time (event timestamps are whole seconds: before its second). */
  | { kind: 'time'; time: Date }
  /** Up to and including this GTID. */
  | { kind: 'gtid'; gtid: Gtid }
  /** Up to, not including, the event at this byte position of this file. */
  | { kind: 'position'; file: string; position: number }
  /** Everything archived. */
  | { kind: 'latest' };

/** One archived file to replay: mariadb-binlog's --start-position, --stop-datetime, --stop-position. */
export interface PitrStep {
  record: BinlogFileRecord;
  /** Byte position to start at (the dump's position, in the dump's file only). */
  startPosition?: number;
  /** Stop at the first event stamped at or after this time (whole seconds, UTC). */
  stopDatetime?: Date;
  /** Stop before the event at this byte position. */
  stopPosition?: number;
  /** Stop after this GTID's transaction. */
  stopGtid?: Gtid;
}

export interface PitrPlan {
  dump: DumpCandidate;
  chain: string;
  /** In order; empty when the dump itself is the target's state. */
  steps: PitrStep[];
}

export type PitrProblemReason = 'invalid-target' | 'no-dump' | 'before-oldest-dump' | 'not-covered' | 'ambiguous-chain' | 'gap' | 'beyond-archive' | 'unknown-gtid-domain' | 'time-goes-back';

export interface PitrProblem {
  reason: PitrProblemReason;
  message: string;
}

const iso = (unixS: number): string => new Date(unixS * 1000).toISOString().replace('.000Z', 'Z');
const at = (file: string, position: number): string => `${file}:${position}`;
const sequenceOf = (file: string): number => Number(/\.([0-9]+)$/.exec(file)?.[1] ?? NaN);

/** Whether the dump's state is at or before the target (it holds nothing the target excludes). */
function dumpBefore(d: DumpCandidate, target: PitrTarget): boolean {
  const c = d.coordinates;
  switch (target.kind) {
    case 'latest':
      return true;
    case 'time':
      // Events carry whole seconds, and the target excludes its own second: a dump taken inside
      // it may hold transactions stamped in it, which the replay's stop cannot take out again.
      return Date.parse(d.time) <= Math.floor(target.time.getTime() / 1000) * 1000;
    case 'gtid':
      return seqIn(c.gtid, target.gtid.domain) <= target.gtid.seq;
    case 'position': {
      const ds = sequenceOf(c.file);
      const ts = sequenceOf(target.file);
      return ds < ts || (ds === ts && c.file === target.file && c.position <= target.position);
    }
  }
}

function describeTarget(t: PitrTarget): string {
  switch (t.kind) {
    case 'latest':
      return 'the latest archived state';
    case 'time':
      return Number.isFinite(t.time.getTime()) ? t.time.toISOString() : 'an invalid time';
    case 'gtid':
      return `GTID ${formatGtid(t.gtid)}`;
    case 'position':
      return at(t.file, t.position);
  }
}

function targetProblem(t: PitrTarget): string | undefined {
  if (t.kind === 'time' && !Number.isFinite(t.time.getTime())) return 'the time is not a valid date';
  if (t.kind === 'position') {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,126}\.[0-9]{1,9}$/.test(t.file) || t.file.includes('..')) return `${JSON.stringify(t.file)} is not a binary-log file name`;
    if (!Number.isSafeInteger(t.position) || t.position < 4) return `the position must be an integer of at least 4 (the file's first event), not ${t.position}`;
  }
  return undefined;
}

const problem = (reason: PitrProblemReason, message: string) => ({ problem: { reason, message } });

/** A plan's problem as the error a restore fails with (PITR_UNREACHABLE, details.reason). */
export function pitrProblemError(p: PitrProblem): SidestashError {
  return new SidestashError(ErrorCodes.PITR_UNREACHABLE, `point-in-time restore: ${p.message}`, { details: { reason: p.reason } });
}

export function planPointInTime(dumps: readonly DumpCandidate[], files: readonly BinlogFileRecord[], target: PitrTarget): { plan: PitrPlan } | { problem: PitrProblem } {
  const bad = targetProblem(target);
  if (bad) return problem('invalid-target', `cannot restore to ${describeTarget(target)}: ${bad}`);
  if (dumps.length === 0) return problem('no-dump', 'no backup with binary-log coordinates exists for this target (a point-in-time restore starts from a backup taken while binary-log archiving was on)');
  // Newest first; a dump whose time does not parse sorts last (it can still be chosen by coordinates).
  // A position inside the file's magic number is no event's start: not a dump's coordinates.
  const byTime = dumps.filter((d) => d.coordinates.position >= 4).sort((a, b) => (Date.parse(b.time) || 0) - (Date.parse(a.time) || 0) || (a.snapshotId < b.snapshotId ? -1 : 1));
  const dump = byTime.find((d) => dumpBefore(d, target));
  if (byTime.length === 0) return problem('no-dump', 'no backup with usable binary-log coordinates exists for this target');
  if (!dump) {
    const oldest = byTime[byTime.length - 1]!;
    return problem('before-oldest-dump', `${describeTarget(target)} is before the oldest usable backup (${oldest.snapshotId.slice(0, 8)}, taken ${oldest.time} at ${at(oldest.coordinates.file, oldest.coordinates.position)}): nothing to start a point-in-time restore from`);
  }
  const chains = binlogChains(files);
  const chain = chainOfDump(chains, dump.coordinates);
  if (!chain) return notCovered(dump, chains);
  if ('ambiguous' in chain) {
    return problem('ambiguous-chain', `the backup ${dump.snapshotId.slice(0, 8)} was taken at ${at(dump.coordinates.file, dump.coordinates.position)}, and archives of more than one server hold a file of that name up to there (servers ${[...new Set(chain.ambiguous.flatMap((ch) => ch.files.filter((r) => r.file === dump.coordinates.file).map((r) => r.serverId)))].join(', ')}: a failover?); the backup does not say which server it was taken on, so the binary log to replay cannot be told. Restore that backup alone, or from a backup that records its server`);
  }
  if (target.kind === 'gtid') {
    const d = target.gtid.domain;
    const known = dump.coordinates.gtid.some((g) => g.domain === d) || chain.files.some((r) => r.gtidStart.some((g) => g.domain === d) || r.gtidEnd.some((g) => g.domain === d));
    if (!known) return problem('unknown-gtid-domain', `GTID ${formatGtid(target.gtid)} is in replication domain ${d}, which the archived binary logs of this target never had`);
  }
  const plan = walk(dump, chain, target);
  // Everything archived: a newer chain (the archive went on after a gap) holds transactions that
  // no replay from this backup reaches; "latest" would silently leave them out.
  if (target.kind === 'latest' && 'plan' in plan) {
    const newer = chains.filter((ch) => ch.chain !== chain.chain && ch.newestMs > chain.newestMs);
    if (newer.length > 0) {
      const n = newer.sort((a, b) => b.newestMs - a.newestMs)[0]!;
      const start = n.files[0]!;
      return problem('gap', `the archive went on in a newer chain after a gap (from ${start.file}${start.firstEventTime !== undefined ? `, ${iso(start.firstEventTime)}` : ''} on), and no backup was taken in it: everything archived cannot be reached from backup ${dump.snapshotId.slice(0, 8)}. Restore to a point before the gap (${reach(chain.files.at(-1)!)}), or take a backup and restore from it`);
    }
  }
  return plan;
}

function notCovered(dump: DumpCandidate, chains: readonly BinlogChain[]): { problem: PitrProblem } {
  const c = dump.coordinates;
  const same = chains.flatMap((ch) => ch.files.filter((r) => r.file === c.file));
  const why = same.length === 0 ? `${c.file} is not archived` : `${c.file} is archived only up to byte ${Math.max(...same.map((r) => r.endPosition))}, or its archive starts after the backup's GTID state (another server's file of that name)`;
  return problem('not-covered', `the backup ${dump.snapshotId.slice(0, 8)} was taken at ${at(c.file, c.position)}, but ${why}: the binary logs after it cannot be replayed`);
}

/** The GTID state after a file: its Gtid_list, moved on by the GTIDs it holds. */
function stateAfter(r: BinlogFileRecord): Gtid[] {
  const out = r.gtidStart.filter((g) => !r.gtidEnd.some((e) => e.domain === g.domain));
  return [...out, ...r.gtidEnd];
}

/** Why next does not follow prev directly in the archive (undefined: it does). */
function gapBetween(prev: BinlogFileRecord, next: BinlogFileRecord): string | undefined {
  if (!prev.closed) return `${prev.file} is archived only up to byte ${prev.endPosition} and not marked closed, yet later files exist: its end was never archived`;
  if (next.sequence !== prev.sequence + 1) return `the file after ${prev.file} (number ${prev.sequence + 1}) is not archived`;
  for (const g of stateAfter(prev)) {
    const s = next.gtidStart.find((x) => x.domain === g.domain);
    if (s && s.seq !== g.seq) return `${next.file} starts at GTID ${formatGtid(s)} but ${prev.file} ends at ${formatGtid(g)}: transactions between them are not archived`;
  }
  return undefined;
}

/** How far the archive reaches after rec (for messages). */
function reach(rec: BinlogFileRecord, domain?: number): string {
  const time = rec.lastEventTime !== undefined ? `, newest archived event at ${iso(rec.lastEventTime)}` : '';
  const g = domain === undefined ? rec.gtidEnd : rec.gtidEnd.filter((x) => x.domain === domain);
  const gtid = g.length > 0 ? `, last GTID ${g.map(formatGtid).join(',')}` : '';
  return `the archive reaches ${at(rec.file, rec.endPosition)}${time}${gtid}`;
}

/** Where the target falls in rec: a stop for its step, 'beyond' (later files), or a problem. */
type Stop = Omit<PitrStep, 'record' | 'startPosition'> | 'beyond' | { problem: PitrProblem };

function stopIn(rec: BinlogFileRecord, target: PitrTarget, startPosition: number): Stop {
  switch (target.kind) {
    case 'latest':
      return 'beyond';
    case 'time': {
      const s = Math.floor(target.time.getTime() / 1000);
      return rec.lastEventTime !== undefined && rec.lastEventTime >= s ? { stopDatetime: new Date(s * 1000) } : 'beyond';
    }
    case 'gtid': {
      const end = rec.gtidEnd.find((g) => g.domain === target.gtid.domain);
      return end && end.seq >= target.gtid.seq ? { stopGtid: target.gtid } : 'beyond';
    }
    case 'position': {
      if (rec.file !== target.file) return 'beyond';
      if (target.position > rec.endPosition) return problem('beyond-archive', `${at(target.file, target.position)} is beyond what is archived: ${reach(rec)}`);
      if (target.position < startPosition) return problem('before-oldest-dump', `${at(target.file, target.position)} is before the backup's position ${startPosition}`);
      return { stopPosition: target.position };
    }
  }
}

function walk(dump: DumpCandidate, chain: BinlogChain, target: PitrTarget): { plan: PitrPlan } | { problem: PitrProblem } {
  const c = dump.coordinates;
  const done = (steps: PitrStep[]) => ({ plan: { dump, chain: chain.chain, steps } });
  // The dump's GTID already holds the target: nothing to replay (a stop GTID that the replay
  // never meets would replay everything after it).
  if (target.kind === 'gtid' && seqIn(c.gtid, target.gtid.domain) === target.gtid.seq) return done([]);
  const files = chain.files;
  const steps: PitrStep[] = [];
  let prev: BinlogFileRecord | undefined;
  const first = files.findIndex((r) => r.file === c.file);
  for (let i = first; ; i++) {
    const rec = files[i]!;
    if (prev) {
      const gap = gapBetween(prev, rec);
      if (gap) return problem('gap', `binary-log events after the backup are missing from the archive: ${gap}; a restore past ${prev.file} cannot be complete. Restore to a point before it (${reach(prev)}) or from a newer backup`);
      if (target.kind === 'time' && prev.lastEventTime !== undefined && rec.firstEventTime !== undefined && rec.firstEventTime < prev.lastEventTime) {
        return problem('time-goes-back', `the event times of the archived binary logs go backwards from ${prev.file} (${iso(prev.lastEventTime)}) to ${rec.file} (${iso(rec.firstEventTime)}): the server's clock was set back, or the archive's tags are wrong; a time does not name one point here, restore to a GTID or a position instead`);
      }
      if (target.kind === 'position' && rec.sequence > sequenceOf(target.file)) {
        return problem('not-covered', `${target.file} is not a file of the archived chain after the backup (it goes from ${prev.file} to ${rec.file})`);
      }
    }
    const startPosition = i === first ? c.position : undefined;
    const stop = stopIn(rec, target, startPosition ?? 4);
    if (typeof stop === 'object' && 'problem' in stop) return stop;
    const step: PitrStep = { record: rec, ...(startPosition !== undefined ? { startPosition } : {}), ...(stop === 'beyond' ? {} : stop) };
    // A step that can replay nothing (the dump at the file's archived end, a stop at the start) is left out.
    const from = startPosition ?? 4;
    if (from < rec.endPosition && !(step.stopPosition !== undefined && step.stopPosition <= from)) steps.push(step);
    if (stop !== 'beyond') return done(steps);
    if (i + 1 >= files.length) {
      // The end of the chain: everything archived is in the plan.
      if (target.kind === 'latest') return done(steps);
      const domain = target.kind === 'gtid' ? target.gtid.domain : undefined;
      return problem('beyond-archive', `${describeTarget(target)} is beyond what is archived: ${reach(rec, domain)}`);
    }
    prev = rec;
  }
}
