// Verified restore: after the load, each table that received rows is counted (SELECT COUNT(*))
// and compared with the rows of its INSERT statements, counted from the dump stream as it was
// loaded.
//
// What the expected counts are: the rows counted from the dump stream of this restore, which
// are the rows in the snapshot's dump: the stream is the snapshot's file, every blob of it
// checked against its SHA-256 id as it is read (common/repository), so it holds the bytes
// mariadb-dump wrote at backup and nothing else. The count is not a number recorded at backup
// and carried beside the dump: it cannot disagree with the dump it describes. What it checks is
// that the server kept what it was sent: a trigger or a statement of the dump that removed rows,
// a storage engine that dropped them (BLACKHOLE), an INSERT IGNORE that skipped duplicates, show
// as a mismatch, which fails the session.
//
// The count is exact for mariadb-dump's output: every table section starts with DROP TABLE and
// CREATE TABLE, so the table holds only the dump's rows (a table the dump holds twice counts the
// rows of its last section: dump-loader.ts starts again at its DROP/CREATE). A dump without DROP
// TABLE (--skip-add-drop-table, --no-create-info) loads into tables that may already have rows:
// those count as restored too, and a table with more rows than the dump carried is reported as a
// mismatch all the same (the restore did not make it what the snapshot holds).
//
// A system-versioned table dumped with its history (mariadb-dump --dump-history) carries its
// history rows as INSERTs too: such a table is counted FOR SYSTEM_TIME ALL (current and history
// rows), which is what its INSERTs were. Without --dump-history the dump has only current rows,
// and a freshly created table has no history: the same count.
//
// A cancel (the signal) stops the statement in flight at once: its connection is destroyed and
// its server thread KILLed (CHECKSUM TABLE of a large table can take minutes, a COUNT(*) can wait
// for a lock), as the loader does.
import { ErrorCodes, SidestashError, errorMessage } from '../../common/errors.ts';
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
/** A name (the dump's bytes as latin1) as a literal of those bytes, whatever the sql_mode. */
const hex = (latin1: string): string => (latin1 === '' ? "''" : `0x${Buffer.from(latin1, 'latin1').toString('hex')}`);
const key = (database: string, table: string): string => `${database}\u0000${table}`;

/** Counts (and checksums) each table on conn; returns every table's verification. */
export async function verifyTables(conn: RestoreConnection, tables: readonly TableRows[], options: VerifyOptions = {}): Promise<TableVerification[]> {
  const { signal } = options;
  let aborting: Promise<void> | undefined;
  const onAbort = () => (aborting ??= conn.abort());
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    signal?.throwIfAborted();
    const versioned = await versionedTables(conn, tables);
    const out: TableVerification[] = [];
    for (const t of tables) {
      signal?.throwIfAborted();
      const name = `${quote(t.database)}.${quote(t.table)}`;
      const all = versioned.has(key(utf8(t.database), utf8(t.table))) ? ' FOR SYSTEM_TIME ALL' : '';
      const [row] = await conn.query(`SELECT COUNT(*) FROM ${name}${all}`);
      // Names are the dump's bytes read as latin1 (common/sql-dump): reported as the UTF-8 they are.
      const v: TableVerification = { database: utf8(t.database), table: utf8(t.table), expectedRows: t.rows, restoredRows: Number(row![0]) };
      if (options.checksum) {
        const [sum] = await conn.query(`CHECKSUM TABLE ${name} EXTENDED`);
        if (sum?.[1] !== undefined && sum[1] !== '') v.checksum = sum[1];
      }
      out.push(v);
    }
    return out;
  } catch (err) {
    if (!signal?.aborted) throw err;
    onAbort();
    await aborting;
    throw new SidestashError(ErrorCodes.ABORTED, `verification stopped: ${errorMessage(signal.reason)}`, { cause: signal.reason });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** The system-versioned tables among `tables` (database and table as UTF-8). */
async function versionedTables(conn: RestoreConnection, tables: readonly TableRows[]): Promise<Set<string>> {
  const databases = [...new Set(tables.map((t) => t.database))];
  if (databases.length === 0) return new Set();
  const rows = await conn.query(`SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'SYSTEM VERSIONED' AND TABLE_SCHEMA IN (${databases.map(hex).join(', ')})`);
  return new Set(rows.map(([database, table]) => key(database!, table!)));
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
