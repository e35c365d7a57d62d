// mariadb-dump ends each table's rows with `ALTER TABLE t ENABLE KEYS` (a no-op for InnoDB; for
// MyISAM and Aria it builds the indexes DISABLE KEYS put off). Planned where it stands, it waits
// for the table's rows on every connection, and whatever its connection has queued behind it
// waits too: at the end of each table spread over two connections, one of them idled until the
// other finished the table (1.4 s of the two connections' 2 x 8.4 s in a 50-table load).
//
// Nothing later in a dump needs those indexes before its next ordered statement, so the loader
// holds each ENABLE KEYS back and plans it just before the first later statement that could
// notice: a statement of the same table (its DDL or rows), anything the planner orders against
// everything (a view, trigger, routine or event, CREATE/DROP DATABASE), a USE or a transaction
// statement (which change what the name means or what it commits), any session statement other
// than the character_set_client save/set/restore mariadb-dump writes around each CREATE TABLE,
// and the end of the dump. Only a name of printable ASCII is held: its bytes parse the same under
// every client character set, so the session statements passed over cannot change the table it
// names. Anything else (another form of ALTER, a name with other bytes) runs where it stands.
import type { ClassifiedStatement } from '../../common/sql-dump/dump-statements.ts';
import { statementCore } from '../../common/sql-dump/statement-kind.ts';

/** More held than this and the oldest go on (a dump of very many tables with no ordered statement). */
export const MAX_HELD = 10_000;

const ENABLE_KEYS = /^ALTER\s+TABLE\s+`(?:[\x20-\x5f\x61-\x7e]|``)+`\s+ENABLE\s+KEYS\s*(?:\*\/\s*)?$/i;
/** mariadb-dump's statements around each CREATE TABLE (and view): they touch nothing else. */
const AROUND_CREATE = [/^SET\s+@saved_cs_client\s*=\s*@@character_set_client\s*(?:\*\/\s*)?$/i, /^SET\s+character_set_client\s*=\s*(?:\w+|@saved_cs_client)\s*(?:\*\/\s*)?$/i];

/** Whether st is an ENABLE KEYS that may be held back. */
export function deferrableEnableKeys(st: ClassifiedStatement): boolean {
  return st.what.kind === 'table-ddl' && st.what.verb === 'alter' && ENABLE_KEYS.test(statementCore(st.head.toString('latin1')));
}

/** Whether st may run before the held ENABLE KEYS statements (of these tables). */
function passes(st: ClassifiedStatement, held: ReadonlyMap<string, number>): boolean {
  const w = st.what;
  switch (w.kind) {
    case 'lock':
      return true;
    case 'data':
    case 'table-ddl':
      return !held.has(w.table);
    case 'session': {
      const core = statementCore(st.head.toString('latin1'));
      return AROUND_CREATE.some((re) => re.test(core));
    }
    default:
      return false;
  }
}

/** The statements in the order the loader plans them: each ENABLE KEYS held back as above. */
export async function* deferEnableKeys(statements: AsyncIterable<ClassifiedStatement>): AsyncGenerator<ClassifiedStatement> {
  const held: ClassifiedStatement[] = [];
  /** How many held statements name each table. */
  const tables = new Map<string, number>();
  const tableOf = (st: ClassifiedStatement) => (st.what.kind === 'table-ddl' ? st.what.table : '');
  for await (const st of statements) {
    if (held.length > 0 && !passes(st, tables)) {
      yield* held.splice(0);
      tables.clear();
    }
    if (!deferrableEnableKeys(st)) {
      yield st;
      continue;
    }
    held.push(st);
    tables.set(tableOf(st), (tables.get(tableOf(st)) ?? 0) + 1);
    if (held.length > MAX_HELD) {
      const oldest = held.shift()!;
      const n = tables.get(tableOf(oldest))! - 1;
      if (n === 0) tables.delete(tableOf(oldest));
      else tables.set(tableOf(oldest), n);
      yield oldest;
    }
  }
  yield* held;
}
