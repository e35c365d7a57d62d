// Verified restore: after the load, each table that received rows is counted (SELECT COUNT(*))
// and compared with the rows counted from the dump stream as it was loaded (the rows of its
// INSERT statements). A cheap check that the server kept what it was sent: a trigger or a
// statement of the dump that removed rows, a storage engine that dropped them (BLACKHOLE), an
// INSERT IGNORE that skipped duplicates, show as a mismatch, which fails the session.
//
// The count is exact for mariadb-dump's output: every table section starts with DROP TABLE and
// CREATE TABLE, so the table holds only the dump's rows. A dump without DROP TABLE
// (--skip-add-drop-table, --no-create-info) loads into tables that may already have rows: those
// count as restored too, and a table with more rows than the dump carried is reported as a
// mismatch all the same (the restore did not make it what the snapshot holds).
import type { TableVerification } from '../../common/protocol.ts';
import { MAX_VERIFIED_TABLES } from '../../common/protocol.ts';
import type { TableRows } from './dump-loader.ts';
import type { RestoreConnection } from './restore-connection.ts';

export interface VerifyOptions {
  /** Also record CHECKSUM TABLE of each table. */
  checksum?: boolean;
  signal?: AbortSignal;
}

const quote = (name: string): string => `\`${name.replace(/`/g, '``')}\``;
const utf8 = (latin1: string): string => Buffer.from(latin1, 'latin1').toString('utf8');

/** Counts (and checksums) each table on conn; returns every table's verification. */
export async function verifyTables(conn: RestoreConnection, tables: readonly TableRows[], options: VerifyOptions = {}): Promise<TableVerification[]> {
  const out: TableVerification[] = [];
  for (const t of tables) {
    options.signal?.throwIfAborted();
    const name = `${quote(t.database)}.${quote(t.table)}`;
    const [row] = await conn.query(`SELECT COUNT(*) FROM ${name}`);
    // Names are the dump's bytes read as latin1 (common/sql-dump): reported as the UTF-8 they are.
    const v: TableVerification = { database: utf8(t.database), table: utf8(t.table), expectedRows: t.rows, restoredRows: Number(row![0]) };
    if (options.checksum) {
      const [sum] = await conn.query(`CHECKSUM TABLE ${name} EXTENDED`);
      if (sum?.[1] !== undefined && sum[1] !== '') v.checksum = sum[1];
    }
    out.push(v);
  }
  return out;
}

/** The tables whose counts differ. */
export function mismatches(tables: readonly TableVerification[]): TableVerification[] {
  return tables.filter((t) => t.expectedRows !== t.restoredRows);
}

/** What goes on the session result: at most MAX_VERIFIED_TABLES, mismatches first. */
export function reportedTables(tables: readonly TableVerification[]): TableVerification[] {
  const bad = mismatches(tables);
  return [...bad, ...tables.filter((t) => t.expectedRows === t.restoredRows)].slice(0, MAX_VERIFIED_TABLES);
}

/** One line per mismatch, for the session's error (the first few). */
export function mismatchMessage(tables: readonly TableVerification[]): string {
  const bad = mismatches(tables);
  const shown = bad.slice(0, 5).map((t) => `${quote(t.database)}.${quote(t.table)}: ${t.restoredRows} rows restored, ${t.expectedRows} in the dump`);
  return `${bad.length} of ${tables.length} restored tables do not hold the rows of the dump: ${shown.join('; ')}${bad.length > shown.length ? `; and ${bad.length - shown.length} more` : ''}`;
}
