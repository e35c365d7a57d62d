// Which part of a dump each statement belongs to: the header (session settings before the first
// database or table), a database's own statements (CREATE/DROP DATABASE, USE), a table's
// structure or data, or an object (view, trigger, routine, event) of a database, a trigger with
// its table. One rule for the dump index (dump-index.ts) and the granular selection
// (dump-selection.ts), so that reading a table's byte ranges and filtering the whole stream
// yield the same statements.
//
// mariadb-dump wraps what it writes in session statements: it saves and sets variables before a
// CREATE TABLE, a trigger, a routine, and restores them after. So a session statement that
// restores (assigns a user variable: `SET character_set_client = @saved_cs_client`) belongs to
// what came before it, any other session statement (and a DROP TABLE, which precedes both a
// table's CREATE TABLE and a view's placeholder) waits for the next statement that names what it
// is (the opener) and belongs to that. Statements that name nothing (UNLOCK TABLES, COMMIT,
// anything not recognised) belong to what came before.
import type { ClassifiedStatement } from './dump-statements.ts';
import { statementCore } from './statement-kind.ts';

export type ObjectKind = 'view' | 'trigger' | 'routine' | 'event';

export type SectionOwner =
  | { part: 'header' }
  /** A dump without any database statement names its tables' database as ''. */
  | { part: 'database'; database: string }
  | { part: 'structure' | 'data'; database: string; table: string }
  | { part: 'object'; database: string; kind: ObjectKind; name: string; table?: string };

export function sameOwner(a: SectionOwner, b: SectionOwner): boolean {
  if (a.part !== b.part) return false;
  if (a.part === 'header') return true;
  const x = a as Exclude<SectionOwner, { part: 'header' }>;
  const y = b as Exclude<SectionOwner, { part: 'header' }>;
  if (x.database !== y.database) return false;
  if (x.part === 'database') return true;
  if (x.part === 'object') return y.part === 'object' && x.kind === y.kind && x.name === y.name;
  return x.table === (y as { table: string }).table;
}

/** One statement's place: its owner, and whether it starts a new section (pending statements included). */
export interface Placed {
  statement: ClassifiedStatement;
  owner: SectionOwner;
}

const IDENT = /`(?:[^`]|``)*`|[A-Za-z0-9_$\u0080-\uffff]+|'(?:[^'\\]|\\.)*'|\S/g;
const unquote = (t: string): string => (t.startsWith('`') ? t.slice(1, -1).replace(/``/g, '`') : t);
const isName = (t: string | undefined): t is string => t !== undefined && (t.startsWith('`') || /^[A-Za-z0-9_$\u0080-\uffff]+$/.test(t));

/** Tokens of a statement's head with executable-comment markers removed. */
function tokens(head: string): string[] {
  const s = statementCore(head).replace(/\/\*M?!\d{5,6}\s?|\*\//g, ' ');
  return s.match(IDENT) ?? [];
}

/** `name` or `db`.`name` at tokens[i]: the name, its database, and the index after it. */
function qualifiedName(t: string[], i: number): { name: string; database?: string; next: number } | undefined {
  if (!isName(t[i])) return undefined;
  if (t[i + 1] === '.' && isName(t[i + 2])) return { database: unquote(t[i]!), name: unquote(t[i + 2]!), next: i + 3 };
  return { name: unquote(t[i]!), next: i + 1 };
}

const OBJECT_WORDS: Record<string, ObjectKind> = { VIEW: 'view', TRIGGER: 'trigger', PROCEDURE: 'routine', FUNCTION: 'routine', EVENT: 'event' };

/** The view, trigger, routine or event a CREATE/DROP/ALTER statement defines, from its head. */
export function objectOf(head: string): { kind: ObjectKind; name: string; database?: string; table?: string; tableDatabase?: string } | undefined {
  const t = tokens(head);
  const verb = t[0]?.toUpperCase();
  if (verb !== 'CREATE' && verb !== 'DROP' && verb !== 'ALTER') return undefined;
  for (let i = 1; i < t.length; i++) {
    const word = t[i]!.toUpperCase();
    const kind = OBJECT_WORDS[word];
    if (!kind) continue;
    let j = i + 1;
    if (t[j]?.toUpperCase() === 'IF') j += t[j + 1]?.toUpperCase() === 'NOT' ? 3 : 2;
    const name = qualifiedName(t, j);
    if (!name) return undefined;
    const out: { kind: ObjectKind; name: string; database?: string; table?: string; tableDatabase?: string } = { kind, name: name.name };
    if (name.database !== undefined) out.database = name.database;
    if (kind === 'trigger' && verb === 'CREATE') {
      // TRIGGER name {BEFORE|AFTER} {INSERT|UPDATE|DELETE} ON table
      const on = t.findIndex((x, k) => k >= name.next && x.toUpperCase() === 'ON');
      const table = on >= 0 ? qualifiedName(t, on + 1) : undefined;
      if (!table) return undefined;
      out.table = table.name;
      if (table.database !== undefined) out.tableDatabase = table.database;
    }
    return out;
  }
  return undefined;
}

/** Statements that may wait for their opener (mariadb-dump writes about ten in a row). */
export const MAX_PENDING = 1000;
/** Their bytes (each can be max_allowed_packet long): the same bound as the selection's header. */
export const MAX_PENDING_BYTES = 16 * 1024 * 1024;

const LOCK_TABLE = /^LOCK\s+TABLES\s+`((?:[^`]|``){1,256})`\s+WRITE\s*$/i;

/** A session statement that restores saved values (assigns a user variable), which ends what it follows. */
export function isRestoringSet(head: string): boolean {
  const core = statementCore(head).replace(/\s*\*\/\s*$/, '');
  return /^SET\s/i.test(core) && /=\s*@(?!@)\w+\s*(?:,|$)/.test(core) && !/=\s*@@/.test(core);
}

/**
 * Follows a dump statement by statement; place() says to whom each belongs. Statements waiting
 * for their opener come back together with it, in dump order.
 */
export class DumpSectioner {
  #database: string | undefined;
  #current: SectionOwner = { part: 'header' };
  #started = false;
  #pending: ClassifiedStatement[] = [];
  #pendingBytes = 0;
  /** Whether any database statement was seen (a dump of one database without --databases has none). */
  sawDatabase = false;

  /** The database statements of the dump so far name (USE, CREATE DATABASE), '' before any. */
  get database(): string {
    return this.#database ?? '';
  }

  /** The owner a statement opens, or 'pending' / 'continue'. */
  #classify(st: ClassifiedStatement): SectionOwner | 'pending' | 'continue' {
    const w = st.what;
    const db = (): string => this.#database ?? '';
    switch (w.kind) {
      case 'create-database':
      case 'drop-database':
      case 'use':
        return { part: 'database', database: w.database };
      case 'table-ddl':
        if (w.verb === 'drop') return 'pending';
        return w.verb === 'create' ? { part: 'structure', database: db(), table: w.table } : { part: 'data', database: db(), table: w.table };
      case 'data':
        return { part: 'data', database: w.database ?? db(), table: w.table };
      case 'session':
        return isRestoringSet(st.head.toString('latin1')) ? 'continue' : 'pending';
      case 'lock': {
        const m = LOCK_TABLE.exec(statementCore(st.head.toString('latin1')));
        return m ? { part: 'data', database: db(), table: m[1]!.replace(/``/g, '`') } : 'continue';
      }
      case 'transaction':
        return 'continue';
      case 'ordered': {
        const o = objectOf(st.head.toString('latin1'));
        if (!o) return 'continue';
        const owner: SectionOwner = { part: 'object', database: o.database ?? db(), kind: o.kind, name: o.name };
        if (o.table !== undefined) owner.table = o.table;
        return owner;
      }
    }
  }

  /** Places one statement; returns the statements placed now (pending ones wait). */
  place(st: ClassifiedStatement): Placed[] {
    const c = this.#classify(st);
    if (c === 'pending') {
      if (!this.#started && this.#pending.length === 0 && st.what.kind === 'session') return [{ statement: st, owner: this.#current }];
      this.#pending.push(st);
      this.#pendingBytes += st.end - st.offset;
      // A dump is untrusted: statements wait in memory only up to a bound, then go with what came before.
      return this.#pending.length >= MAX_PENDING || this.#pendingBytes >= MAX_PENDING_BYTES ? this.end() : [];
    }
    if (c === 'continue') {
      // A restoring SET after pending statements restores for them: they stay together.
      if (this.#pending.length > 0) {
        this.#pending.push(st);
        this.#pendingBytes += st.end - st.offset;
        return this.#pendingBytes >= MAX_PENDING_BYTES ? this.end() : [];
      }
      return [{ statement: st, owner: this.#current }];
    }
    if (c.part === 'database') {
      this.sawDatabase = true;
      this.#database = c.database;
    }
    this.#started = true;
    this.#current = c;
    const out = this.#pending.map((p) => ({ statement: p, owner: c }));
    this.#pending = [];
    this.#pendingBytes = 0;
    out.push({ statement: st, owner: c });
    return out;
  }

  /** At the end of the dump: what still waits belongs to the last section. */
  end(): Placed[] {
    const out = this.#pending.map((p) => ({ statement: p, owner: this.#current }));
    this.#pending = [];
    this.#pendingBytes = 0;
    return out;
  }
}
