// The repository check after a successful backup (and its retention), as Stash runs one after
// each backup: common/repository/check.ts under a shared lock, reading the pack data subset
// the controller asked for. Its outcome never fails the backup: the snapshot is stored.
// - problems found, or a check that fails (an unreadable index, a backend error): ok=false,
//   with the first MAX_INTEGRITY_ERRORS problems of at most MAX_INTEGRITY_ERROR_CHARS each;
// - a check that cannot run because another process holds a conflicting (exclusive) lock, or
//   that is stopped (cancel, deadline, lost lock): no result (undefined), a warning in the
//   log. That says nothing about the repository's data; reporting it as a failed check would
//   raise the integrity alert over a prune that happened to run. The read-data schedule is
//   not advanced, so the next backup's check reads the data instead.
import { ErrorCodes, errorMessage, isSidestashError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import { MAX_INTEGRITY_ERROR_CHARS, MAX_INTEGRITY_ERRORS } from '../common/protocol.ts';
import type { IntegrityCheckAssignment, IntegrityResult } from '../common/protocol.ts';
import { check } from '../common/repository/check.ts';
import { readDataSubsetProblem } from '../common/repository/read-data-subset.ts';
import type { Repository } from '../common/repository/repository.ts';

/** Problems as the result carries them: the first ones, each cut, the last saying how many more there were. */
export function boundedProblems(problems: readonly string[]): string[] {
  const cut = (s: string): string => (s.length > MAX_INTEGRITY_ERROR_CHARS ? `${s.slice(0, MAX_INTEGRITY_ERROR_CHARS - 1)}…` : s);
  if (problems.length <= MAX_INTEGRITY_ERRORS) return problems.map(cut);
  return [...problems.slice(0, MAX_INTEGRITY_ERRORS - 1).map(cut), `…and ${problems.length - MAX_INTEGRITY_ERRORS + 1} more problems`];
}

export async function runIntegrityCheck(repo: Repository, asked: IntegrityCheckAssignment, log: Logger, signal: AbortSignal, now: () => Date = () => new Date()): Promise<IntegrityResult | undefined> {
  let subset = asked.readDataSubset;
  if (subset !== undefined && readDataSubsetProblem(subset)) {
    log.warn('integrity check: the read-data subset the controller sent is not valid; checking metadata only', { readDataSubset: String(subset).slice(0, 40) });
    subset = undefined;
  }
  const at = (): string => now().toISOString();
  const base = subset === undefined ? {} : { readDataSubset: subset };
  log.info('integrity check started', base);
  try {
    const report = await check(repo, { signal, ...base });
    const result: IntegrityResult = { ok: report.errors.length === 0, checkedAt: at(), ...base, errors: boundedProblems(report.errors) };
    if (result.ok) log.info('integrity check passed', { ...base, packs: report.packs, packsRead: report.packsRead, snapshots: report.snapshots });
    else log.warn('integrity check found problems; the backup is stored, but the repository needs attention', { ...base, problems: report.errors.length, first: result.errors[0] });
    return result;
  } catch (err) {
    if (signal.aborted || isSidestashError(err, ErrorCodes.ABORTED) || isSidestashError(err, ErrorCodes.LOCK_LOST)) {
      log.warn('integrity check stopped before it finished; no result is reported', { err: errorMessage(err) });
      return undefined;
    }
    if (isSidestashError(err, ErrorCodes.REPOSITORY_LOCKED)) {
      log.warn('integrity check not run: another process holds a lock that excludes it; the next backup checks again', { err: errorMessage(err) });
      return undefined;
    }
    log.warn('integrity check failed; the backup is stored, but the repository could not be checked', { ...base, err: errorMessage(err) });
    return { ok: false, checkedAt: at(), ...base, errors: boundedProblems([`the check could not complete: ${errorMessage(err)}`]) };
  }
}
