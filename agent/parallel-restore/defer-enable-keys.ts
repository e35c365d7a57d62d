// mariadb-dump ends each table's rows with `ALTER TABLE t ENABLE KEYS` (a no-op for InnoDB; for
// MyISAM and Aria it builds the indexes DISABLE KEYS put off). Planned where it stands, it waits
// for the table's rows on every connection, and whatever its connection has queued behind it
// waits too: at the end of each table spread over two connections, one of them idled until the
// other finished the table (1.4 s of the two connections' 2 x 8.4 s in a 50-table load).
//
// Nothing later in a dump needs those indexes before its next ordered statement, so the loader
// holds each ENABLE KEYS back and plans it just before the first later statement that could
// notice. What may pass held ones is an allow-list:
// - LOCK/UNLOCK TABLES (the loader skips them);
// - DROP TABLE, CREATE TABLE (not ... SELECT or LIKE: load-order.ts makes those ordered) and
//   ALTER ... KEYS of another table, and rows of another table, where "another" holds under
//   lower_case_table_names too (names compare case-folded, in any database);
// - but no rows into a table a trigger was created on earlier in the dump (or into a view, whose
//   WITH CHECK OPTION runs its WHERE), and no rows at all once a function or a statement not
//   recognised has run (a trigger, or a function called in VALUES, could read the held table
//   and its index state);
// - mariadb-dump's character_set_client save/set/restore around each CREATE TABLE, setting it
//   to utf8, utf8mb3 or utf8mb4 only, and restoring it only from a save that came after the
//   first held statement: a printable ASCII name reads the same under these and whatever set
//   was in force (not under swe7, where `[` is Ä: SET character_set_client = swe7 would make a
//   held `a[` name `aÄ`).
// Anything else (USE, a transaction statement, any other session statement, an ordered one, the
// end of the dump) yields the held statements first. Only an ENABLE KEYS whose whole text is that
// form and whose name is printable ASCII is held; anything else runs where it stands.
//
// Memory: a held statement is copied into a buffer of its own (at most a few hundred bytes): the
// splitter's small buffers are slices of shared 8 KiB slabs, and 10,000 held slices kept about
// 150 MiB of slabs alive in a dump of small tables.
import type { ClassifiedStatement } from '../../common/sql-dump/dump-statements.ts';
import { objectOf } from '../../common/sql-dump/dump-sections.ts';
import { statementCore } from '../../common/sql-dump/statement-kind.ts';
import { foldName } from '../../common/sql-dump/fold-name.ts';

/** More held than this and the oldest go on (a dump of very many tables with no ordered statement). */
export const MAX_HELD = 10_000;
/** Names of tables with triggers (and of views) kept; past it no rows pass held statements. */
export const MAX_TRIGGERED = 10_000;

const ENABLE_KEYS = /^ALTER\s+TABLE\s+`((?:[\x20-\x5f\x61-\x7e]|``)+)`\s+ENABLE\s+KEYS\s*(?:\*\/\s*)?$/i;
const SAVE_CS = /^SET\s+@saved_cs_client\s*=\s*@@character_set_client\s*(?:\*\/\s*)?$/i;
const SET_CS = /^SET\s+character_set_client\s*=\s*(?:utf8|utf8mb3|utf8mb4)\s*(?:\*\/\s*)?$/i;
const RESTORE_CS = /^SET\s+character_set_client\s*=\s*@saved_cs_client\s*(?:\*\/\s*)?$/i;

/** The folded name of st's table if st is an ENABLE KEYS that may be held back. */
function deferrableTable(st: ClassifiedStatement): string | undefined {
  if (st.what.kind !== 'table-ddl' || st.what.verb !== 'alter' || st.text === undefined) return undefined;
  // The whole statement, not its head only (statement-kind.ts says why).
  if (st.text.length > st.head.length) return undefined;
  const m = ENABLE_KEYS.exec(statementCore(st.text.toString('latin1')));
  return m ? foldName(m[1]!.replace(/``/g, '`')) : undefined;
}

/** Whether st is an ENABLE KEYS that may be held back. */
export function deferrableEnableKeys(st: ClassifiedStatement): boolean {
  return deferrableTable(st) !== undefined;
}

/** st in buffers of its own (framed: the same headroom before the text, as the splitter made it). */
function compact(st: ClassifiedStatement): ClassifiedStatement {
  const text = st.text!;
  const headroom = st.framed ? st.framed.length - text.length : 0;
  const framed = Buffer.allocUnsafeSlow(headroom + text.length);
  text.copy(framed, headroom);
  const own = framed.subarray(headroom);
  const copy: ClassifiedStatement = { ...st, text: own, head: own.subarray(0, st.head.length) };
  if (st.framed) copy.framed = framed;
  else delete copy.framed;
  return copy;
}

/** PROCEDURE or FUNCTION, whichever a routine's head names first outside quotes (a definer may be named either). */
function routineWord(st: ClassifiedStatement): string | undefined {
  const bare = statementCore(st.head.toString('latin1')).replace(/`(?:[^`]|``)*`?|'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?/g, ' ');
  return /\b(PROCEDURE|FUNCTION)\b/i.exec(bare)?.[1]!.toUpperCase();
}

/** What the statements seen so far allow to pass held statements. */
class Passing {
  /** Folded names of tables a trigger was created on, and of views (rows into them run code). */
  readonly triggered = new Set<string>();
  /** A function or a statement not recognised ran: no rows pass. */
  rowsMayCall = false;
  /** A character_set_client save passed since the first held statement. */
  saved = false;

  /** Follows a statement that runs (before or after the held ones). */
  follow(st: ClassifiedStatement): void {
    if (st.what.kind !== 'ordered') return;
    const o = objectOf(st.head.toString('latin1'));
    // Rows into a view are checked against its WHERE (WITH CHECK OPTION), which can read any table.
    if (o?.kind === 'view') this.triggered.add(foldName(o.name));
    else if (o?.kind === 'trigger' && o.table !== undefined) this.triggered.add(foldName(o.table));
    // A procedure runs only when CALLed (an ordered statement) or from a trigger, an event only
    // on the scheduler's clock (in any order in a serial load too): neither from rows.
    else if (o?.kind === 'event' || (o?.kind === 'routine' && routineWord(st) === 'PROCEDURE')) return;
    else if (!/^DROP\s/i.test(statementCore(st.head.toString('latin1'))) || o === undefined) this.rowsMayCall = true;
    // A dump is untrusted: past this many names, no rows pass instead of a set without bound.
    if (this.triggered.size > MAX_TRIGGERED) {
      this.triggered.clear();
      this.rowsMayCall = true;
    }
  }

  /** Whether st may run before the held statements (tables: their folded names). */
  passes(st: ClassifiedStatement, held: ReadonlyMap<string, number>): boolean {
    const w = st.what;
    switch (w.kind) {
      case 'lock':
        return true;
      case 'table-ddl':
        return !held.has(foldName(w.table));
      case 'data':
        return !this.rowsMayCall && !held.has(foldName(w.table)) && !this.triggered.has(foldName(w.table));
      case 'session': {
        const core = statementCore(st.head.toString('latin1'));
        if (st.text === undefined || st.text.length > st.head.length) return false;
        if (SAVE_CS.test(core)) {
          this.saved = true;
          return true;
        }
        return SET_CS.test(core) || (this.saved && RESTORE_CS.test(core));
      }
      default:
        return false;
    }
  }
}

/** The statements in the order the loader plans them: each ENABLE KEYS held back as above. */
export async function* deferEnableKeys(statements: AsyncIterable<ClassifiedStatement>): AsyncGenerator<ClassifiedStatement> {
  const held: { st: ClassifiedStatement; table: string }[] = [];
  /** How many held statements name each (folded) table. */
  const tables = new Map<string, number>();
  const passing = new Passing();
  const flush = function* (): Generator<ClassifiedStatement> {
    tables.clear();
    passing.saved = false;
    for (const h of held.splice(0)) yield h.st;
  };
  for await (const st of statements) {
    if (held.length > 0 && !passing.passes(st, tables)) yield* flush();
    const table = deferrableTable(st);
    if (table === undefined) {
      passing.follow(st);
      yield st;
      continue;
    }
    held.push({ st: compact(st), table });
    tables.set(table, (tables.get(table) ?? 0) + 1);
    if (held.length > MAX_HELD) {
      const oldest = held.shift()!;
      const n = tables.get(oldest.table)! - 1;
      if (n === 0) tables.delete(oldest.table);
      else tables.set(oldest.table, n);
      yield oldest.st;
    }
  }
  yield* flush();
}
