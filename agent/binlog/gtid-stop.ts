// A GTID target turned into a byte position, before anything is replayed. mariadb-binlog's own
// --stop-position=<GTID> does not stop the replay in binlog order: it prints only the events of
// the domains it names (measured on 10.11: with --stop-position=0-7-12 the transactions of domain
// 1 in the same file are left out), and when the GTID is not in the file it prints the whole file
// with only a warning. "Up to and including GTID d-s-n" is the binlog up to the end of that
// transaction, every domain's transactions before it included: the byte position of the next
// GTID event after it (of any domain). A first pass over the file (mariadb-binlog's comments,
// without replaying) finds it; a GTID the file does not reach fails the restore before anything
// is applied. A sequence number the domain skipped stops before the first one past it.
import { binlogArgs } from './binlog-args.ts';
import { binlogOutput } from './binlog-output.ts';
import type { BinlogOutputOptions } from './binlog-output.ts';
import { formatGtid } from '../../common/binlog/archive-layout.ts';
import type { Gtid } from '../../common/binlog/archive-layout.ts';
import type { PitrStep } from '../../common/binlog/pitr-plan.ts';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import type { Repository } from '../../common/repository/repository.ts';

/** mariadb-binlog's event header comment (#YYMMDD HH:MM:SS server id N  end_log_pos P ...<TAB>GTID d-s-n ...). */
const GTID_HEADER = /^#[0-9]{6} +[0-9]{1,2}:[0-9]{2}:[0-9]{2} server id [0-9]+ +end_log_pos [0-9]+ .*\tGTID ([0-9]{1,10})-([0-9]{1,10})-([0-9]{1,20})(?: |$)/;
const AT = /^# at ([0-9]{1,16})$/;

export type GtidStop =
  /** Stop before the event at this byte. */
  | { kind: 'position'; position: number }
  /** The target's transaction is the last in the file: replay to its end. */
  | { kind: 'end' }
  /** The file does not reach the target. */
  | { kind: 'not-found' };

/** Follows mariadb-binlog's comment lines of one file (pure: fed line by line). */
export class GtidStopFinder {
  readonly #target: Gtid;
  #at: number | undefined;
  #passed = false;
  #stop: number | undefined;

  constructor(target: Gtid) {
    this.#target = target;
  }

  /** Whether the stop is known (the rest of the output is not needed). */
  get done(): boolean {
    return this.#stop !== undefined;
  }

  line(text: string): void {
    if (this.#stop !== undefined) return;
    const at = AT.exec(text);
    if (at) {
      this.#at = Number(at[1]);
      return;
    }
    const m = GTID_HEADER.exec(text);
    if (!m || this.#at === undefined) return;
    // The next transaction's GTID event after the target's (any domain), or the first of the
    // target's domain past it (its sequence number was skipped): the replay stops there.
    if (this.#passed || (Number(m[1]) === this.#target.domain && BigInt(m[3]!) > this.#target.seq)) this.#stop = this.#at;
    else if (Number(m[1]) === this.#target.domain && BigInt(m[3]!) === this.#target.seq) this.#passed = true;
  }

  result(): GtidStop {
    if (this.#stop !== undefined) return { kind: 'position', position: this.#stop };
    return this.#passed ? { kind: 'end' } : { kind: 'not-found' };
  }
}

/** The step with its stopGtid replaced by the byte position it means (read from the archived file). */
export async function resolveGtidStop(repo: Repository, step: PitrStep, o: BinlogOutputOptions): Promise<PitrStep> {
  const target = step.stopGtid;
  if (!target) return step;
  const { stopGtid: _, ...rest } = step;
  const finder = new GtidStopFinder(target);
  let pending = '';
  // Stops reading (and mariadb-binlog) as soon as the position is known.
  for await (const chunk of binlogOutput(repo, rest, binlogArgs(rest), o)) {
    const lines = (pending + chunk.toString('latin1')).split('\n');
    pending = lines.pop()!;
    for (const l of lines) finder.line(l);
    if (finder.done) break;
  }
  finder.line(pending);
  const r = finder.result();
  if (r.kind === 'not-found') {
    throw new SidestashError(ErrorCodes.PITR_UNREACHABLE, `GTID ${formatGtid(target)} is not in the archived ${step.record.file} (from byte ${step.startPosition ?? 4}), though its snapshot's tags say the file reaches it: nothing was replayed`, {
      details: { reason: 'gtid-not-found', file: step.record.file, gtid: formatGtid(target) },
    });
  }
  if (r.kind === 'end') return rest;
  if (r.position <= (step.startPosition ?? 4) || r.position > step.record.endPosition) {
    throw new SidestashError(ErrorCodes.RESTORE_FAILED, `mariadb-binlog placed the end of GTID ${formatGtid(target)} at byte ${r.position} of ${step.record.file}, outside the part to replay`, { details: { file: step.record.file } });
  }
  return { ...rest, stopPosition: r.position };
}
