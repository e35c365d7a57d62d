// What a dump statement is, from its first bytes: enough for the parallel loader to know what may
// run side by side and for the dump index to know which table a statement belongs to. Anything
// not recognised is 'ordered' (runs alone, in dump order): the safe default for views, triggers,
// routines, events and whatever a hand-written or future dump contains.
import type { DumpStatement } from './statement-splitter.ts';

export type StatementKind =
  /** INSERT/REPLACE INTO a table: rows, which may load on any connection. */
  | { kind: 'data'; table: string; database?: string; rows: number }
  /** SET ... (session variables): every connection runs it, in its place. */
  | { kind: 'session' }
  | { kind: 'use'; database: string }
  | { kind: 'create-database'; database: string }
  | { kind: 'drop-database'; database: string }
  /** DROP TABLE / CREATE TABLE / ALTER TABLE ... DISABLE|ENABLE KEYS of one table. */
  | { kind: 'table-ddl'; table: string; verb: 'drop' | 'create' | 'alter' }
  /** LOCK TABLES / UNLOCK TABLES: a table locked by one connection cannot load on the others. */
  | { kind: 'lock' }
  /** COMMIT, set autocommit=0 (mariadb-dump --no-autocommit): every connection runs it. */
  | { kind: 'transaction' }
  | { kind: 'ordered' };

const NAME = '`((?:[^`]|``){1,256})`';
const unquote = (s: string): string => s.replace(/``/g, '`');
const DATA = new RegExp(`^(?:INSERT|REPLACE)(?:\\s+(?:IGNORE|LOW_PRIORITY|HIGH_PRIORITY|DELAYED))?\\s+INTO\\s+(?:${NAME}\\.)?${NAME}\\s*(\\()?`, 'i');
const USE = new RegExp(`^USE\\s+(?:${NAME}|([A-Za-z0-9_$\\u0080-\\uffff]{1,64}))\\s*$`, 'i');
const CREATE_DB = new RegExp(`^CREATE\\s+DATABASE\\s+(?:/\\*!32312\\s+)?(?:IF\\s+NOT\\s+EXISTS\\s*(?:\\*/)?\\s*)?${NAME}`, 'i');
const DROP_DB = new RegExp(`^DROP\\s+DATABASE\\s+(?:IF\\s+EXISTS\\s+)?${NAME}`, 'i');
const DROP_TABLE = new RegExp(`^DROP\\s+TABLE\\s+(?:IF\\s+EXISTS\\s+)?${NAME}\\s*(?:\\*/\\s*)?$`, 'i');
const CREATE_TABLE = new RegExp(`^CREATE\\s+TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?${NAME}\\s*\\(`, 'i');
const ALTER_KEYS = new RegExp(`^ALTER\\s+TABLE\\s+${NAME}\\s+(?:DISABLE|ENABLE)\\s+KEYS\\s*(?:\\*/\\s*)?$`, 'i');

/**
 * The statement's text without what wraps it: leading whitespace and plain comments, the sandbox line
 * of newer mariadb-dump (/*M!999999\- enable the sandbox mode *\/, a comment to the server), and
 * the version prefix of an executable comment (/*!40101 SET ... *\/ reads as SET ... *\/).
 */
export function statementCore(head: string): string {
  let s = head;
  for (;;) {
    s = s.replace(/^\s+/, '');
    const sandbox = /^\/\*M!999999\\-[^*]*\*\//.exec(s);
    if (sandbox) {
      s = s.slice(sandbox[0].length);
      continue;
    }
    // Plain comments after the sandbox line (mariadb-dump's "-- MariaDB dump" header follows it).
    const comment = /^(?:--(?:[\x00-\x20][^\n]*)?(?:\n|$)|#[^\n]*(?:\n|$)|\/\*(?!M?!)[\s\S]*?\*\/)/.exec(s);
    if (comment) {
      s = s.slice(comment[0].length);
      continue;
    }
    const exec = /^\/\*M?!\d{5,6}\s?/.exec(s);
    if (exec) {
      s = s.slice(exec[0].length);
      continue;
    }
    return s;
  }
}

export function statementKind(st: DumpStatement): StatementKind {
  const kind = headKind(st);
  // The forms read up to the statement's end ($ in USE, DROP_TABLE, ALTER_KEYS, UNLOCK, COMMIT)
  // are those forms only if the head is the whole statement: `DROP TABLE \`a\`` and 500 spaces
  // fill a head that ends there, and `, \`prod\`.\`orders\`` after it drops another table.
  const whole = st.end - st.delimiter.length - st.contentOffset <= st.head.length;
  if (whole) return kind;
  switch (kind.kind) {
    case 'use':
    case 'transaction':
      return { kind: 'ordered' };
    case 'table-ddl':
      return kind.verb === 'create' ? kind : { kind: 'ordered' };
    case 'lock':
      return /^LOCK\s/i.test(statementCore(st.head.toString('latin1'))) ? kind : { kind: 'ordered' };
    default:
      return kind;
  }
}

function headKind(st: DumpStatement): StatementKind {
  const core = statementCore(st.head.toString('latin1'));
  const word = /^[A-Za-z]+/.exec(core)?.[0].toUpperCase();
  switch (word) {
    case 'INSERT':
    case 'REPLACE': {
      const m = DATA.exec(core);
      if (!m) return { kind: 'ordered' };
      const rows = st.topLevelGroups - (m[3] ? 1 : 0);
      return m[1] !== undefined ? { kind: 'data', database: unquote(m[1]), table: unquote(m[2]!), rows } : { kind: 'data', table: unquote(m[2]!), rows };
    }
    case 'SET':
      // SET GLOBAL/PASSWORD/ROLE/DEFAULT ROLE and friends change more than the session: in order, once.
      return /^SET\s+(?:GLOBAL\b|@@GLOBAL\.|PASSWORD\b|ROLE\b|DEFAULT\s+ROLE\b|STATEMENT\b|TRANSACTION\b)/i.test(core) ? { kind: 'ordered' } : { kind: 'session' };
    case 'USE': {
      const m = USE.exec(core.replace(/\s*\*\/\s*$/, ''));
      return m ? { kind: 'use', database: m[1] !== undefined ? unquote(m[1]) : m[2]! } : { kind: 'ordered' };
    }
    case 'CREATE': {
      const db = CREATE_DB.exec(core);
      if (db) return { kind: 'create-database', database: unquote(db[1]!) };
      const t = CREATE_TABLE.exec(core);
      return t ? { kind: 'table-ddl', table: unquote(t[1]!), verb: 'create' } : { kind: 'ordered' };
    }
    case 'DROP': {
      const db = DROP_DB.exec(core);
      if (db) return { kind: 'drop-database', database: unquote(db[1]!) };
      const t = DROP_TABLE.exec(core);
      return t ? { kind: 'table-ddl', table: unquote(t[1]!), verb: 'drop' } : { kind: 'ordered' };
    }
    case 'ALTER': {
      const t = ALTER_KEYS.exec(core);
      return t ? { kind: 'table-ddl', table: unquote(t[1]!), verb: 'alter' } : { kind: 'ordered' };
    }
    case 'LOCK':
      return /^LOCK\s+TABLES\s/i.test(core) ? { kind: 'lock' } : { kind: 'ordered' };
    case 'UNLOCK':
      return /^UNLOCK\s+TABLES\s*$/i.test(core) ? { kind: 'lock' } : { kind: 'ordered' };
    case 'COMMIT':
      return /^COMMIT\s*$/i.test(core) ? { kind: 'transaction' } : { kind: 'ordered' };
    default:
      return { kind: 'ordered' };
  }
}

/** SET statements that change how backslashes read (sql_mode NO_BACKSLASH_ESCAPES), as mariadb-dump writes them around routines and triggers. */
/** The server's bit for NO_BACKSLASH_ESCAPES in a numeric sql_mode (sql_class.h MODE_NO_BACKSLASH_ESCAPES). */
const MODE_NO_BACKSLASH_ESCAPES = 1n << 20n;

export class SqlModeTracker {
  #saved = new Map<string, boolean>();
  /** Whether backslashes escape in strings (the server's default). */
  backslashEscapes = true;

  /** Follows a session statement; returns whether backslashEscapes changed. */
  follow(core: string): boolean {
    const before = this.backslashEscapes;
    // SET @saved_sql_mode = @@sql_mode / SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='...'
    for (const m of core.matchAll(/(@\w+)\s*:?=\s*@@(?:SESSION\.)?sql_mode\b/gi)) this.#saved.set(m[1]!.toLowerCase(), this.backslashEscapes);
    const lit = /(?:^|[\s,])(?:@@(?:SESSION\.)?)?sql_mode\s*:?=\s*'([^']*)'/i.exec(core);
    if (lit) this.backslashEscapes = !/NO_BACKSLASH_ESCAPES/i.test(lit[1]!);
    // mariadb-binlog writes the mode as its number (SET @@session.sql_mode=1411383296).
    const num = /(?:^|[\s,])(?:@@(?:SESSION\.)?)?sql_mode\s*:?=\s*([0-9]{1,20})(?![0-9])/i.exec(core);
    if (num) this.backslashEscapes = (BigInt(num[1]!) & MODE_NO_BACKSLASH_ESCAPES) === 0n;
    const restored = /(?:^|[\s,])(?:@@(?:SESSION\.)?)?sql_mode\s*:?=\s*(@\w+)/i.exec(core);
    if (restored && this.#saved.has(restored[1]!.toLowerCase())) this.backslashEscapes = this.#saved.get(restored[1]!.toLowerCase())!;
    return before !== this.backslashEscapes;
  }
}
