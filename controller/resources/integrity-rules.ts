// BackupConfiguration spec.integrityCheck: its defaults and the checks of meaning the schema
// cannot make (the subset's "n/m" or "x%" rules). The plan of which check a session gets is
// controller/sessions/integrity-plan.ts.
import { parseDurationMs } from '../../common/duration.ts';
import { readDataSubsetProblem } from '../../common/repository/read-data-subset.ts';
import type { FieldError } from './validate.ts';

/** Stash checks after each backup; a metadata check is cheap enough to do the same. */
export const DEFAULT_INTEGRITY_CHECK_ENABLED = true;
/** What a scheduled read-data check reads: a random 5% of the packs (restic's --read-data-subset). */
export const DEFAULT_READ_DATA_SUBSET = '5%';
/** How often a backup's check also reads pack data: weekly, per Repository. */
export const DEFAULT_READ_DATA_INTERVAL = '168h';

export function integrityCheckErrors(spec: unknown): FieldError[] {
  const check = (spec as { integrityCheck?: unknown } | undefined)?.integrityCheck;
  if (!check || typeof check !== 'object') return [];
  const { readDataSubset, readDataInterval } = check as { readDataSubset?: unknown; readDataInterval?: unknown };
  const errors: FieldError[] = [];
  if (typeof readDataSubset === 'string') {
    const problem = readDataSubsetProblem(readDataSubset);
    if (problem) errors.push({ field: 'spec.integrityCheck.readDataSubset', message: problem });
  }
  if (typeof readDataInterval === 'string' && parseDurationMs(readDataInterval) === undefined) {
    errors.push({ field: 'spec.integrityCheck.readDataInterval', message: 'must be a duration like 168h or 0s' });
  }
  return errors;
}
