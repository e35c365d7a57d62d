// What a granular selection (tables, a database, `as` another name) lets through, by allow-list:
// only the statement kinds mariadb-dump writes for the selected objects, and only when every name
// they carry is provably unqualified or the target database's (sql-tokens.ts reads them as the
// server does: comments, whitespace, quotes, ANSI_QUOTES as the session's sql_mode has it).
//
// - Executed statements (what runs during the restore) are refused, failing the restore, unless
//   they are exactly mariadb-dump's: INSERT/REPLACE INTO `t` [(`c`, ...)] VALUES of literals only;
//   DROP TABLE / CREATE TABLE / ALTER TABLE ... KEYS of the section's own table (a CREATE TABLE
//   with no qualified name other than the target's, no SELECT); LOCK TABLES `t` WRITE, UNLOCK
//   TABLES, COMMIT; session SETs of literals and variables (session-set.ts).
// - Definitions (views, triggers, routines, events) run nothing when created: one whose own name
//   or trigger table names another database, or (under `as`) whose body names the original, is
//   left out with a warning (the caller reports it), as is one whose text cannot be read for
//   sure. A trigger is never created before the rows of its table (its body would run on them).
// - Anything else (an unknown statement, mariadb-dump's ALTER DATABASE around routines in
//   another form) is refused.
import { HEAD_BYTES } from './statement-splitter.ts';
import { foldName } from './fold-name.ts';
import { objectOf } from './dump-sections.ts';
import type { SectionOwner } from './dump-sections.ts';
import type { ClassifiedStatement } from './dump-statements.ts';
import { SessionSetFollower } from './session-set.ts';
import { qualifiers, sqlTokens } from './sql-tokens.ts';
import type { SqlToken } from './sql-tokens.ts';
import { statementCore } from './statement-kind.ts';
import { literalRowsProblem } from './literal-rows.ts';

export type OmitCode = 'NAMES_ORIGINAL_DATABASE' | 'NAMES_OTHER_DATABASE' | 'UNDECIDABLE_DEFINITION';
/** omit: `what` is left out (a definition: 'trigger orders_ai'), `reason` says why. */
export type GuardDecision = { action: 'pass' } | { action: 'omit'; code: OmitCode; what: string; reason: string } | { action: 'refuse'; reason: string };

const PASS: GuardDecision = { action: 'pass' };
const refuse = (reason: string): GuardDecision => ({ action: 'refuse', reason });

const NAME = '`((?:[^`]|``){1,256})`';
/** A column of an INSERT's column list: quoted, or plain as mariadb-dump writes row_start, row_end (--dump-history). */
const COLUMN = '(?:`(?:[^`]|``){1,256}`|[A-Za-z_][A-Za-z0-9_$]{0,63})';
const DATA_HEAD = new RegExp(`(?:INSERT|REPLACE)(?:\\s+IGNORE)?\\s+INTO\\s+${NAME}\\s*(?:\\(\\s*${COLUMN}(?:\\s*,\\s*${COLUMN})*\\s*\\)\\s*)?VALUES?(?![A-Za-z0-9_$])`, 'iy');
const LOCK = new RegExp(`^LOCK\\s+TABLES\\s+${NAME}\\s+WRITE\\s*$`, 'i');
const ALTER_DB = new RegExp(`^ALTER\\s+DATABASE\\s+${NAME}\\s+CHARACTER\\s+SET\\s+[A-Za-z0-9_]{1,64}\\s+COLLATE\\s+[A-Za-z0-9_]{1,64}\\s*(?:\\*/)?\\s*$`, 'i');
const unquote = (s: string): string => s.replace(/``/g, '`');
const SANDBOX = /^\s*\/\*M!999999\\-[^*]*\*\//;

/** The table a section's table statements must name: its own (a view's placeholder: the view). */
function sectionTable(owner: SectionOwner): string | undefined {
  if (owner.part === 'structure' || owner.part === 'data') return owner.table;
  if (owner.part === 'object' && owner.kind === 'view') return owner.name;
  return undefined;
}

const firstWord = (tokens: readonly SqlToken[]): string | undefined => (tokens[0]?.t === 'name' && !tokens[0].quoted ? tokens[0].v.toUpperCase() : undefined);

export class SelectionGuard {
  readonly #sessions = new SessionSetFollower({ backslashEscapes: true, ansiQuotes: undefined });
  /**
   * Tables the selection created a trigger on (their rows may no longer come), by folded name
   * (fold-name.ts: under lower_case_table_names=1 `ORDERS` and `orders` are one table), each
   * with the exact names: a DROP or CREATE of one exact name clears that one only (under
   * lower_case_table_names=0 the other is another table, its trigger still there).
   */
  readonly #triggered = new Map<string, Set<string>>();
  readonly #as: string | undefined;

  constructor(as: string | undefined) {
    this.#as = as;
  }

  #untrigger(table: string): void {
    const names = this.#triggered.get(foldName(table));
    names?.delete(table);
    if (names?.size === 0) this.#triggered.delete(foldName(table));
  }

  /** The statement's text, without the sandbox line of newer mariadb-dump (a comment to the server). */
  #text(st: ClassifiedStatement): string | undefined {
    const text = st.text ? st.text.toString('latin1') : st.head.length < HEAD_BYTES ? st.head.toString('latin1') : undefined;
    return text?.replace(SANDBOX, '');
  }

  /** A statement of the dump's header (a session statement or COMMIT), in the order it runs. */
  header(st: ClassifiedStatement): GuardDecision {
    if (st.what.kind === 'transaction') return PASS;
    if (st.what.kind !== 'session') return refuse('not a session statement');
    return this.#session(st);
  }

  #session(st: ClassifiedStatement): GuardDecision {
    const text = this.#text(st);
    if (text === undefined) return refuse('its text was not kept');
    const t = sqlTokens(text, this.#sessions.mode);
    if (!t.ok) return refuse(t.problem);
    const problem = this.#sessions.follow(t.tokens, t.conditional);
    return problem ? refuse(`not a session setting of literals or variables (${problem})`) : PASS;
  }

  /** A statement of a selected section: `db` the database it is in, in the dump. */
  check(st: ClassifiedStatement, owner: SectionOwner, db: string): GuardDecision {
    const target = this.#as ?? db;
    const w = st.what;
    switch (w.kind) {
      case 'session':
        return this.#session(st);
      case 'transaction':
        return PASS;
      case 'lock': {
        const core = statementCore(st.head.toString('latin1'));
        if (/^UNLOCK\s+TABLES\s*$/i.test(core)) return PASS;
        const m = LOCK.exec(core);
        return m && unquote(m[1]!) === sectionTable(owner) ? PASS : refuse('a LOCK TABLES of another table than its section\'s');
      }
      case 'table-ddl': {
        if (w.table !== sectionTable(owner)) return refuse(`a ${w.verb.toUpperCase()} TABLE of \`${w.table}\` in the section of another table`);
        if (w.verb === 'create') {
          const text = this.#text(st);
          if (text === undefined) return refuse('its text was not kept');
          const t = sqlTokens(text, this.#sessions.mode);
          if (!t.ok) return refuse(t.problem);
          if (t.tokens.some((x) => x.t === 'name' && !x.quoted && x.v.toUpperCase() === 'SELECT')) return refuse('a CREATE TABLE ... SELECT');
          const other = qualifiers(t.tokens).find((q) => q !== target);
          if (other !== undefined) return refuse(`a CREATE TABLE naming database ${JSON.stringify(other)}`);
        }
        if (w.verb !== 'alter') this.#untrigger(w.table);
        return PASS;
      }
      case 'data': {
        if (w.database !== undefined || w.table !== sectionTable(owner)) return refuse('an INSERT naming a database or another table');
        if (this.#triggered.has(foldName(w.table))) return refuse(`rows of \`${w.table}\` after a trigger on it (the trigger would run on them)`);
        const text = this.#text(st);
        if (text === undefined) return refuse('its text was not kept');
        const core = statementCore(st.head.toString('latin1'));
        const start = st.head.length - core.length;
        DATA_HEAD.lastIndex = start;
        const m = DATA_HEAD.exec(text);
        if (!m || unquote(m[1]!) !== w.table) return refuse('not an INSERT INTO `table` [(columns)] VALUES as mariadb-dump writes it');
        const problem = literalRowsProblem(text, DATA_HEAD.lastIndex, this.#sessions.mode.backslashEscapes);
        return problem ? refuse(`VALUES hold more than literals (${problem})`) : PASS;
      }
      case 'ordered':
        return this.#ordered(st, owner, db, target);
      default:
        return refuse(`a ${w.kind} statement inside a table's or an object's section`);
    }
  }

  #ordered(st: ClassifiedStatement, owner: SectionOwner, db: string, target: string): GuardDecision {
    const head = st.head.toString('latin1');
    const o = objectOf(head);
    if (!o || owner.part !== 'object') {
      const alter = ALTER_DB.exec(statementCore(head));
      if (alter && unquote(alter[1]!) === db) {
        // mariadb-dump's switch of the database's collation around routines and triggers.
        if (this.#as === undefined) return PASS;
        return { action: 'omit', code: 'NAMES_ORIGINAL_DATABASE', what: `ALTER DATABASE ${db}`, reason: `it alters the original database ${JSON.stringify(db)}` };
      }
      return refuse('not a statement mariadb-dump writes in a table\'s or an object\'s section');
    }
    const what = `${o.kind} ${o.name}`;
    const isOriginal = (q: string): boolean => this.#as !== undefined && q.toLowerCase() === db.toLowerCase();
    for (const q of [o.database, o.tableDatabase]) {
      if (q === undefined || q === target) continue;
      if (isOriginal(q)) return { action: 'omit', code: 'NAMES_ORIGINAL_DATABASE', what, reason: `it names the original database ${JSON.stringify(db)} and would act on it, not on ${JSON.stringify(target)}` };
      return { action: 'omit', code: 'NAMES_OTHER_DATABASE', what, reason: `it is defined in database ${JSON.stringify(q)}, not ${JSON.stringify(target)}` };
    }
    const text = this.#text(st);
    if (text === undefined) return { action: 'omit', code: 'UNDECIDABLE_DEFINITION', what, reason: `its text was not kept` };
    const t = sqlTokens(text, this.#sessions.mode);
    if (!t.ok) return { action: 'omit', code: 'UNDECIDABLE_DEFINITION', what, reason: `cannot tell which databases it names (${t.problem})` };
    if (qualifiers(t.tokens).some(isOriginal)) return { action: 'omit', code: 'NAMES_ORIGINAL_DATABASE', what, reason: `it names the original database ${JSON.stringify(db)} and would act on it, not on ${JSON.stringify(target)}` };
    if (o.kind === 'trigger' && firstWord(t.tokens) === 'CREATE' && o.table !== undefined) {
      const names = this.#triggered.get(foldName(o.table)) ?? this.#triggered.set(foldName(o.table), new Set()).get(foldName(o.table))!;
      names.add(o.table);
    }
    return PASS;
  }
}
