// Granular restore at statement level: one database of a dump, or some of its tables, optionally
// into another database name. Placement is DumpSectioner's (the dump index's rule), so a stream
// of the whole dump and the index's byte ranges of the same selection give the same statements.
//
// - The header's session statements always pass (held back until the first selected statement,
//   so a dump without the selection executes nothing); other header statements (SET GLOBAL,
//   replication commands) do not.
// - The dump's own CREATE/DROP DATABASE and USE never pass: before the first statement of a
//   database, `CREATE DATABASE IF NOT EXISTS` the target (with the dump's default character set
//   and collation when it names them) and `USE` it are synthesised, and `USE` again whenever the
//   database changes. A restore of tables never drops or recreates their database.
// - A table comes with its structure, data and triggers; a database with all its tables, views,
//   routines and events.
// - What passes is decided by allow-list (selection-guard.ts): only the statement kinds
//   mariadb-dump writes for the selected objects, whose names are unqualified or the target's;
//   anything else fails the selection (RESTORE_FAILED with its byte offset). A definition (view,
//   trigger, routine, event) that names another database, or under `as` the original (as
//   mariadb-dump writes a trigger's name and body: shop.orders_ai ON shop.orders), is left out
//   with a warning (onWarning): run, it would act there. A USE the classifier does not recognise
//   exactly, anywhere in the dump, fails the selection.
// - A name not in the dump fails with SIDESTASH_NOT_IN_SNAPSHOT naming what the dump contains.
import { ErrorCodes, SidestashError } from '../errors.ts';
import type { ClassifiedStatement } from './dump-statements.ts';
import { DumpSectioner } from './dump-sections.ts';
import type { SectionOwner } from './dump-sections.ts';
import { SelectionGuard } from './selection-guard.ts';
import type { GuardDecision, OmitCode } from './selection-guard.ts';
import { statementCore } from './statement-kind.ts';

export interface DumpSelection {
  /** One whole database. */
  database?: string;
  /** Tables as database and name. */
  tables?: { database: string; table: string }[];
  /** Restore into this database instead (the selection must be of one database). */
  as?: string;
}

export interface SelectionWarning {
  code: OmitCode | 'HEADER_STATEMENT_SKIPPED';
  message: string;
  offset: number;
}

export interface SelectOptions {
  onWarning?: (w: SelectionWarning) => void;
}

/** Names: what a RestoreSession's spec.tables and targetDatabase accept (an allow-list). */
export const DATABASE_NAME = /^[A-Za-z0-9_$]{1,64}$/;
const TABLE_NAME = /^[A-Za-z0-9_$]{1,64}$/;

/** Parses `db.table`; undefined when either part is off the allow-list. */
export function parseTableRef(ref: string): { database: string; table: string } | undefined {
  const dot = ref.indexOf('.');
  if (dot < 0) return undefined;
  const database = ref.slice(0, dot);
  const table = ref.slice(dot + 1);
  return DATABASE_NAME.test(database) && TABLE_NAME.test(table) ? { database, table } : undefined;
}

/** A problem with a selection and the part it is about (the API names the field from it). */
export interface SelectionProblem {
  part: 'database' | 'tables' | 'as';
  message: string;
}

/** Problems with a selection, before any byte is read ([] when none). */
export function selectionProblems(s: DumpSelection): SelectionProblem[] {
  const problems: SelectionProblem[] = [];
  const tables = s.tables ?? [];
  if (s.database !== undefined && tables.length > 0) problems.push({ part: 'database', message: 'choose a database or tables, not both' });
  if (s.database === undefined && tables.length === 0) problems.push({ part: 'database', message: 'nothing selected: name a database or tables' });
  if (s.database !== undefined && !DATABASE_NAME.test(s.database)) problems.push({ part: 'database', message: `database ${JSON.stringify(s.database)}: not a plain database name` });
  for (const t of tables) if (!DATABASE_NAME.test(t.database) || !TABLE_NAME.test(t.table)) problems.push({ part: 'tables', message: `table ${JSON.stringify(`${t.database}.${t.table}`)}: not a plain db.table name` });
  if (s.as !== undefined) {
    if (!DATABASE_NAME.test(s.as)) problems.push({ part: 'as', message: `as ${JSON.stringify(s.as)}: not a plain database name` });
    const dbs = new Set([...(s.database !== undefined ? [s.database] : []), ...tables.map((t) => t.database)]);
    if (dbs.size > 1) problems.push({ part: 'as', message: `as: the selection spans ${dbs.size} databases; it can go into another name only from one` });
  }
  return problems;
}

export function requireValidSelection(s: DumpSelection): void {
  const p = selectionProblems(s).map((x) => x.message);
  if (p.length > 0) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `restore selection: ${p.join('; ')}`, { details: { problems: p } });
}

/** Names kept per list in the error. */
const LISTED = 50;

/**
 * What a selection names that the dump does not hold, with what it holds: its databases, and the
 * tables of each database the selection names (a dump that names no database: its tables).
 */
export function notInDumpError(missing: { database: string; table?: string }[], contents: ReadonlyMap<string, readonly string[]>): SidestashError {
  const list = (xs: readonly string[]): string => (xs.length === 0 ? 'none' : `${xs.slice(0, LISTED).join(', ')}${xs.length > LISTED ? ` and ${xs.length - LISTED} more` : ''}`);
  const databases = [...contents.keys()].filter((d) => d !== '');
  const named = (m: { database: string }): string | undefined => (contents.has(m.database) ? m.database : contents.size === 1 && contents.has('') ? '' : undefined);
  const parts = missing.map((m) => {
    const what = m.table === undefined ? `database ${m.database}` : `table ${m.database}.${m.table}`;
    const db = named(m);
    if (m.table === undefined || db === undefined) return `${what} is not in the snapshot; it contains databases ${list(databases)}`;
    return `${what} is not in the snapshot; ${db === '' ? 'its tables are' : `database ${db} has tables`} ${list(contents.get(db)!)}`;
  });
  const details = { missing: missing.map((m) => (m.table === undefined ? m.database : `${m.database}.${m.table}`)), databases: databases.slice(0, 1000) };
  return new SidestashError(ErrorCodes.NOT_IN_SNAPSHOT, parts.join('; '), { details });
}

/** The header's session statements held until the selection's first statement: mariadb-dump writes about ten. */
const MAX_HELD = 10_000;
const MAX_HELD_BYTES = 16 * 1024 * 1024;

const quote = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

function synthesized(at: number, sql: string, what: ClassifiedStatement['what']): ClassifiedStatement {
  const text = Buffer.from(sql);
  return { offset: at, contentOffset: at, end: at, text, head: text, topLevelGroups: 0, delimiter: ';', what };
}

const CHARSET = /^\s*(\/\*!40100 DEFAULT CHARACTER SET [A-Za-z0-9_]{1,64}(?: COLLATE [A-Za-z0-9_]{1,64})? \*\/)\s*$/;

/** The `/*!40100 DEFAULT CHARACTER SET x COLLATE y *\/` of mariadb-dump's CREATE DATABASE, if that is all that follows the name. */
function charsetClause(st: ClassifiedStatement, database: string): string | undefined {
  const text = (st.text ?? st.head).toString('latin1');
  const at = text.indexOf(quote(database));
  return at < 0 ? undefined : CHARSET.exec(text.slice(at + quote(database).length))?.[1];
}

function refused(st: ClassifiedStatement, reason: string): SidestashError {
  return new SidestashError(ErrorCodes.RESTORE_FAILED, `the statement at byte ${st.contentOffset} of the dump cannot be restored selectively: ${reason}`, { details: { offset: st.contentOffset } });
}

export async function* selectStatements(statements: AsyncIterable<ClassifiedStatement>, selection: DumpSelection, options: SelectOptions = {}): AsyncGenerator<ClassifiedStatement> {
  requireValidSelection(selection);
  const wantTables = new Map<string, Set<string>>();
  for (const t of selection.tables ?? []) {
    if (!wantTables.has(t.database)) wantTables.set(t.database, new Set());
    wantTables.get(t.database)!.add(t.table);
  }
  const sections = new DumpSectioner();
  const seenDatabases = new Set<string>();
  const seenTables = new Map<string, Set<string>>();
  const found = new Set<string>();
  const held: ClassifiedStatement[] = [];
  let heldBytes = 0;
  let started = false;
  const created = new Set<string>();
  let using: string | undefined;
  const charsets = new Map<string, string>();
  /** The dump names no database at all: its tables are in whichever the selection names. */
  const dbOf = (name: string): string | undefined => (name === '' ? (selection.database ?? selection.tables?.[0]?.database) : name);

  const selected = (owner: SectionOwner): string | undefined => {
    if (owner.part === 'header') return undefined;
    const db = dbOf(owner.database);
    if (db === undefined) return undefined;
    if (selection.database !== undefined) return db === selection.database ? db : undefined;
    if (owner.part === 'database') return undefined;
    const table = owner.part === 'object' ? owner.table : owner.table;
    return table !== undefined && wantTables.get(db)?.has(table) ? db : undefined;
  };

  const guard = new SelectionGuard(selection.as);
  /** Whether the guard lets `st` through (throws when it refuses; warns when it leaves it out). */
  const passes = (st: ClassifiedStatement, d: GuardDecision): boolean => {
    if (d.action === 'refuse') throw refused(st, d.reason);
    if (d.action === 'omit') {
      options.onWarning?.({ code: d.code, offset: st.contentOffset, message: `left out the statement at byte ${st.contentOffset} (${d.what}): ${d.reason}` });
      return false;
    }
    return true;
  };

  /** `st` of a selected section (undefined: only the target database, for an empty one). */
  function* emit(st: ClassifiedStatement | undefined, owner: SectionOwner, db: string): Generator<ClassifiedStatement> {
    const target = selection.as ?? db;
    const at = st?.offset ?? 0;
    if (!started) {
      started = true;
      for (const h of held) if (passes(h, guard.header(h))) yield h;
      held.length = 0;
    }
    const pass = st === undefined || passes(st, guard.check(st, owner, db));
    if (!created.has(target)) {
      created.add(target);
      const cs = charsets.get(db);
      yield synthesized(at, `CREATE DATABASE IF NOT EXISTS ${quote(target)}${cs ? ` ${cs}` : ''}`, { kind: 'create-database', database: target });
    }
    if (using !== target) {
      using = target;
      yield synthesized(at, `USE ${quote(target)}`, { kind: 'use', database: target });
    }
    if (st && pass) yield st;
  }

  const handle = function* (st: ClassifiedStatement, owner: SectionOwner): Generator<ClassifiedStatement> {
    // A USE the classifier does not read exactly would switch a connection unseen.
    if (st.what.kind !== 'use' && /^USE(?![A-Za-z0-9_$])/i.test(statementCore(st.head.toString('latin1')))) throw refused(st, 'a USE statement not of the form USE `name`');
    if (owner.part === 'header') {
      if (st.what.kind === 'session' || st.what.kind === 'transaction') {
        if (started) yield st;
        else {
          held.push(st);
          heldBytes += (st.text ?? st.head).length;
          if (held.length > MAX_HELD || heldBytes > MAX_HELD_BYTES) throw new SidestashError(ErrorCodes.RESTORE_FAILED, `the dump's header holds more than ${MAX_HELD} statements or ${MAX_HELD_BYTES} bytes before its first database or table (at byte ${st.end})`, { details: { offset: st.contentOffset } });
        }
      } else {
        options.onWarning?.({ code: 'HEADER_STATEMENT_SKIPPED', offset: st.contentOffset, message: `left out the header statement at byte ${st.contentOffset}: not a session setting` });
      }
      return;
    }
    seenDatabases.add(owner.database);
    if (!seenTables.has(owner.database)) seenTables.set(owner.database, new Set());
    if (owner.part === 'structure' || owner.part === 'data') seenTables.get(owner.database)!.add(owner.table);
    if (st.what.kind === 'create-database') {
      const cs = charsetClause(st, st.what.database);
      if (cs) charsets.set(st.what.database, cs);
    }
    const db = selected(owner);
    if (db === undefined) return;
    if (owner.part === 'database') return;
    found.add(owner.part === 'object' ? db : `${db}.${owner.table}`);
    found.add(db);
    yield* emit(st, owner, db);
  };

  for await (const st of statements) for (const p of sections.place(st)) yield* handle(p.statement, p.owner);
  for (const p of sections.end()) yield* handle(p.statement, p.owner);

  if (selection.database !== undefined && seenDatabases.has(selection.database) && !started) {
    // A database without tables or objects: it is restored, empty.
    yield* emit(undefined, { part: 'database', database: selection.database }, selection.database);
  }
  const missing = selection.database !== undefined
    ? seenDatabases.has(selection.database) || found.has(selection.database) ? [] : [{ database: selection.database }]
    : (selection.tables ?? []).filter((t) => !found.has(`${t.database}.${t.table}`));
  if (missing.length > 0) throw notInDumpError(missing, new Map([...seenTables].map(([d, t]) => [d, [...t]])));
}
