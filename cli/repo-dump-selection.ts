// `sidestash repo dump SNAPSHOT [PATH] --database DB | --table DB.T ... [--as DB]`: the SQL of one
// database or some tables of a snapshot's dump, for the DBA who wants to look before loading.
// It loads with `mariadb` as it is: the dump's session header first, statements of other
// delimiters (triggers, routines, events) wrapped in DELIMITER lines, the database created if
// missing and used (never dropped). With the snapshot's dump index only the blobs that cover the
// selection are read; without one (Stash's snapshots) the whole dump streams through.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import type { OpenSnapshotFile } from '../common/repository/snapshot-reader.ts';
import type { Repository } from '../common/repository/repository.ts';
import { parseTableRef, requireValidSelection } from '../common/sql-dump/dump-selection.ts';
import type { DumpSelection } from '../common/sql-dump/dump-selection.ts';
import { renderSql } from '../common/sql-dump/render-sql.ts';
import { snapshotStatements } from '../common/sql-dump/snapshot-statements.ts';

/** The selection the options ask for; undefined when they ask for the whole file. */
export function dumpSelectionOf(values: { database?: string | undefined; table?: string[] | undefined; as?: string | undefined }): DumpSelection | undefined {
  if (values.database === undefined && !values.table?.length && values.as === undefined) return undefined;
  const tables = (values.table ?? []).map((t) => {
    const ref = parseTableRef(t);
    if (!ref) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `--table ${JSON.stringify(t)}: must be DATABASE.TABLE (letters, digits, _ and $)`);
    return ref;
  });
  const selection: DumpSelection = { ...(values.database !== undefined ? { database: values.database } : {}), ...(tables.length > 0 ? { tables } : {}), ...(values.as !== undefined ? { as: values.as } : {}) };
  requireValidSelection(selection);
  return selection;
}

/** Writes the selection's SQL to `out`; warnings (an unusable index, a definition left out) to stderr. */
export async function writeSelectedSql(repo: Repository, opened: OpenSnapshotFile, selection: DumpSelection, out: NodeJS.WritableStream, signal?: AbortSignal): Promise<void> {
  const warn = (w: { message: string }): void => {
    process.stderr.write(`warning: ${w.message}\n`);
  };
  const s = await snapshotStatements(repo, opened.snapshot, opened.file, selection, { onWarning: warn, ...(signal ? { signal } : {}) });
  await pipeline(Readable.from(renderSql(s.statements)), out, signal ? { signal } : {});
}
