// mariadb-binlog's command line for one step of a point-in-time plan (common/binlog/pitr-plan.ts),
// built only from validated values: integers, a valid date written in UTC (GTIDs are checked to
// parse back to themselves, then turned into positions: gtid-stop.ts). The program is run with TZ=UTC (binlog-replay.ts): it reads --stop-datetime in
// its local time zone. It reads the archived file from standard input ('-'); --start-position
// works there (it reads and skips up to that byte, which must be an event's start, as a dump's
// coordinates are).
import { formatGtid, parseGtid } from '../../common/binlog/archive-layout.ts';
import type { PitrStep } from '../../common/binlog/pitr-plan.ts';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';

export interface BinlogArgsOptions {
  /** false: mariadb-binlog --disable-log-bin (the replayed transactions are not written to the target's binary log). */
  writeBinlog?: boolean;
}

const invalid = (what: string) => new SidestashError(ErrorCodes.INVALID_ARGUMENT, `cannot replay the binary log: ${what}`);

/** "YYYY-MM-DD HH:MM:SS" in UTC: what --stop-datetime reads (whole seconds). */
export function utcDatetime(d: Date): string {
  if (!Number.isFinite(d.getTime())) throw invalid('the stop time is not a valid date');
  const iso = d.toISOString();
  if (!/^[0-9]{4}-/.test(iso)) throw invalid(`the stop time ${iso} is out of range`);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

function position(name: string, n: number | undefined, endPosition: number): number | undefined {
  if (n === undefined) return undefined;
  if (!Number.isSafeInteger(n) || n < 4 || n > endPosition) throw invalid(`${name} ${n} is not a byte position from 4 to the archived end ${endPosition}`);
  return n;
}

/** Checks a step's values (positions, at most one stop, the GTID, the date); throws INVALID_ARGUMENT. */
export function validateStep(step: PitrStep): void {
  const end = step.record.endPosition;
  const start = position('the start position', step.startPosition, end);
  const stop = position('the stop position', step.stopPosition, Number.MAX_SAFE_INTEGER);
  const stops = [step.stopPosition, step.stopGtid, step.stopDatetime].filter((x) => x !== undefined).length;
  if (stops > 1) throw invalid('a step stops at one of a position, a GTID or a time, not several');
  if (start !== undefined && stop !== undefined && stop <= start) throw invalid(`the stop position ${stop} is not after the start position ${start}`);
  if (step.stopGtid) {
    const text = formatGtid(step.stopGtid);
    const back = parseGtid(text);
    if (!back || formatGtid(back) !== text || !Number.isInteger(step.stopGtid.domain) || !Number.isInteger(step.stopGtid.serverId)) throw invalid(`${text} is not a GTID`);
  }
  if (step.stopDatetime) utcDatetime(step.stopDatetime);
}

/**
 * The arguments for a step whose stop is a position or a time. A GTID stop is first turned into
 * a position (gtid-stop.ts): mariadb-binlog's --stop-position=<GTID> leaves other domains out.
 */
export function binlogArgs(step: PitrStep, options: BinlogArgsOptions = {}): string[] {
  validateStep(step);
  if (step.stopGtid) throw invalid(`a GTID stop (${formatGtid(step.stopGtid)}) is replayed as the byte position it means (resolveGtidStop), never as mariadb-binlog's --stop-position=<GTID>`);
  return [
    '--no-defaults',
    // A flipped byte in an archived file must fail the replay, not run different SQL.
    '--verify-binlog-checksum',
    ...(options.writeBinlog === false ? ['--disable-log-bin'] : []),
    ...(step.startPosition !== undefined ? [`--start-position=${step.startPosition}`] : []),
    ...(step.stopPosition !== undefined ? [`--stop-position=${step.stopPosition}`] : []),
    ...(step.stopDatetime ? [`--stop-datetime=${utcDatetime(step.stopDatetime)}`] : []),
    '-',
  ];
}
