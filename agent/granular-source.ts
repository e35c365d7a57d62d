// A RestoreSession's granular selection (spec.database, spec.tables, spec.targetDatabase)
// as the statements to restore: with the snapshot's dump index, only the byte ranges (and blobs)
// they need; without one, the whole dump streamed through the same selection; the parallel loader
// takes the statements as they come.
import type { Logger } from '../common/log.ts';
import type { RestoreAssignment } from '../common/protocol.ts';
import type { Repository } from '../common/repository/repository.ts';
import type { SnapshotFile } from '../common/repository/snapshot-reader.ts';
import type { Snapshot } from '../common/repository/snapshot.ts';
import { parseTableRef, requireValidSelection } from '../common/sql-dump/dump-selection.ts';
import type { DumpSelection } from '../common/sql-dump/dump-selection.ts';
import { snapshotStatements } from '../common/sql-dump/snapshot-statements.ts';
import { QUERY_HEADROOM_BYTES } from './parallel-restore/restore-connection.ts';
import type { SnapshotStatements } from '../common/sql-dump/snapshot-statements.ts';
import { ErrorCodes, SidestashError } from '../common/errors.ts';

/**
 * The selection a restore assignment asks for at statement level (one database, tables, into
 * another name); undefined for a whole-dump restore.
 */
export function granularSelection(a: Pick<RestoreAssignment, 'databaseName' | 'tables' | 'targetDatabase'>): DumpSelection | undefined {
  if (a.databaseName === undefined && !a.tables?.length && a.targetDatabase === undefined) return undefined;
  const tables = (a.tables ?? []).map((t) => {
    const ref = parseTableRef(t);
    if (!ref) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `restore: table ${JSON.stringify(t)} is not db.table`);
    return ref;
  });
  const selection: DumpSelection = {
    ...(a.databaseName !== undefined ? { database: a.databaseName } : {}),
    ...(tables.length > 0 ? { tables } : {}),
    ...(a.targetDatabase !== undefined ? { as: a.targetDatabase } : {}),
  };
  requireValidSelection(selection);
  return selection;
}

/** The selected statements of a snapshot's dump, warnings logged. */
export async function granularStatements(repo: Repository, snapshot: Snapshot, file: SnapshotFile, selection: DumpSelection, log: Logger, signal: AbortSignal, maxStatementBytes?: number): Promise<SnapshotStatements> {
  const s = await snapshotStatements(repo, snapshot, file, selection, { signal, headroomBytes: QUERY_HEADROOM_BYTES, ...(maxStatementBytes ? { maxStatementBytes } : {}), onWarning: (w) => log.warn(w.message, { code: w.code }) });
  log.info('granular restore', { selection, indexed: s.plan !== undefined, ...(s.plan ? { ranges: s.plan.ranges.length, bytes: s.plan.bytes, dumpBytes: file.sizeBytes } : {}) });
  return s;
}
