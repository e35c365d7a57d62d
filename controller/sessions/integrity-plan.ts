// Which repository check a backup session gets (pure; tested on tables). A metadata check after
// each backup unless disabled; pack data read on a schedule kept per Repository (status
// lastReadDataCheckAt, and readDataCheckPending while a session reads), so that configurations
// sharing a repository do not multiply the reads, even when their schedules coincide.
// After a failed check, every check reads all the data until one passes: a failure is cleared
// only by a check that could have found it (repository-integrity.ts records results so).
import { parseDurationMs } from '../../common/duration.ts';
import type { IntegrityCheckAssignment } from '../../common/protocol.ts';
import { readDataSubsetProblem } from '../../common/repository/read-data-subset.ts';
import { DEFAULT_INTEGRITY_CHECK_ENABLED, DEFAULT_READ_DATA_INTERVAL, DEFAULT_READ_DATA_SUBSET } from '../resources/integrity-rules.ts';
import type { IntegrityCheckSpec, RepositoryStatus } from '../resources/types.ts';

/** The subset that reads every pack. */
export const ALL_DATA = '100%';
/** How long a pending read (another session's) holds back the reads of others, at most. */
export const READ_PENDING_MAX_MS = 24 * 3_600_000;

export function integrityCheckPlan(spec: IntegrityCheckSpec | undefined, repository: RepositoryStatus | undefined, nowMs: number): IntegrityCheckAssignment | undefined {
  if ((spec?.enabled ?? DEFAULT_INTEGRITY_CHECK_ENABLED) === false) return undefined;
  // Another session (e.g. of a configuration on the same schedule) is reading the data now.
  const pendingSince = Date.parse(repository?.readDataCheckPending?.since ?? '');
  if (pendingSince <= nowMs && nowMs - pendingSince < READ_PENDING_MAX_MS) return {};
  if (repository?.integrity?.ok === false) return { readDataSubset: ALL_DATA };
  // Values stored before apply checked them (validate.ts refuses both): a metadata check still runs.
  const subset = spec?.readDataSubset ?? DEFAULT_READ_DATA_SUBSET;
  const intervalMs = parseDurationMs(spec?.readDataInterval ?? DEFAULT_READ_DATA_INTERVAL);
  if (readDataSubsetProblem(subset) || intervalMs === undefined) return {};
  const last = repository?.lastReadDataCheckAt === undefined ? NaN : Date.parse(repository.lastReadDataCheckAt);
  // Never read, an unreadable time, one in the future (a clock set back) or one long enough ago: due.
  const due = !Number.isFinite(last) || last > nowMs || nowMs - last >= intervalMs;
  return due ? { readDataSubset: subset } : {};
}
