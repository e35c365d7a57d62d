// The order in which the parallel loader takes a dump's statements (dump-loader.ts): the dump's
// own, with two changes.
// - A CREATE TABLE that reads another table (... SELECT, (LIKE s): create-table-reads.ts) is
//   planned as an ordered statement, after everything before it, as restore-plan.ts promises:
//   classified as table DDL it waited only for its own table and could run before the rows it
//   selects had loaded on another connection.
// - An INSERT/REPLACE that is not of the VALUES form (INSERT INTO x SELECT ... FROM a, INSERT
//   ... SET) is planned as an ordered statement too: classified as rows of x it ran beside a's
//   rows on another connection and took part of them. (A subquery inside VALUES is still rows:
//   mariadb-dump never writes one, and finding one would scan every row.)
// - Over more than one connection, ENABLE KEYS statements are held back (defer-enable-keys.ts).
//   Over one connection holding them saves nothing (nothing waits on another connection), and a
//   one-connection load (a binary log's replay, agent/binlog/binlog-replay.ts) runs its
//   statements exactly in order.
import type { ClassifiedStatement } from '../../common/sql-dump/dump-statements.ts';
import { createTableReads } from '../../common/sql-dump/create-table-reads.ts';
import { statementCore } from '../../common/sql-dump/statement-kind.ts';
import { deferEnableKeys } from './defer-enable-keys.ts';

const NAME = '`(?:[^`]|``){1,256}`';
/** A column of an INSERT's column list: quoted, or plain as mariadb-dump writes row_start, row_end (--dump-history). */
const COLUMN = '(?:`(?:[^`]|``){1,256}`|[A-Za-z_][A-Za-z0-9_$]{0,63})';
const VALUES_FORM = new RegExp(`^(?:INSERT|REPLACE)(?:\\s+(?:IGNORE|LOW_PRIORITY|HIGH_PRIORITY|DELAYED))?\\s+INTO\\s+(?:${NAME}\\.)?${NAME}\\s*(?:\\(\\s*${COLUMN}(?:\\s*,\\s*${COLUMN})*\\s*\\)\\s*)?VALUES?(?![A-Za-z0-9_$])`, 'i');
/** The most of a statement read for its column list (4,096 columns of 256 bytes fit). */
const MAX_PREFIX_BYTES = 1024 * 1024;

/** Whether a data statement is INSERT/REPLACE INTO t [(columns)] VALUES ... */
export function valuesForm(st: ClassifiedStatement): boolean {
  if (VALUES_FORM.test(statementCore(st.head.toString('latin1')))) return true;
  // A column list longer than the head (--complete-insert of a wide table): read on in the text.
  // Growing prefixes: most column lists end within 4 KiB, and an INSERT is about 1 MiB.
  if (st.text === undefined) return false;
  for (let n = 4096; n < 4 * MAX_PREFIX_BYTES && st.head.length < st.text.length; n *= 16) {
    const prefix = st.text.toString('latin1', 0, Math.min(st.text.length, n, MAX_PREFIX_BYTES));
    if (VALUES_FORM.test(statementCore(prefix))) return true;
    if (n >= st.text.length || n >= MAX_PREFIX_BYTES) break;
  }
  return false;
}

async function* orderCreateSelect(statements: AsyncIterable<ClassifiedStatement>): AsyncGenerator<ClassifiedStatement> {
  for await (const st of statements) {
    const w = st.what;
    // Without the text (never in the loader) it cannot tell: ordered.
    if (w.kind === 'table-ddl' && w.verb === 'create' && (st.text === undefined || createTableReads(st.text.toString('latin1')))) st.what = { kind: 'ordered' };
    else if (w.kind === 'data' && !valuesForm(st)) st.what = { kind: 'ordered' };
    yield st;
  }
}

export function loadOrder(statements: AsyncIterable<ClassifiedStatement>, parallel: number): AsyncIterable<ClassifiedStatement> {
  const ordered = orderCreateSelect(statements);
  return parallel > 1 ? deferEnableKeys(ordered) : ordered;
}
