// The index of a dump: per database and table, the byte ranges of its structure and its data and
// its row count, plus the header, each database's own statements and its views, triggers,
// routines and events, built from the dump's statements as they pass (DumpIndexBuilder, fed by
// the backup's tap) and stored beside the dump in the snapshot (format: FORMAT.md, "Dump index").
// A range starts only where a fresh splitter reads the dump as the whole-dump splitter did: the
// delimiter in force is ';' and backslashes escape. A dump where a section would start elsewhere
// gets no index (reason says why), and restores stream through it instead.
import type { ClassifiedStatement } from './dump-statements.ts';
import { DumpSectioner, sameOwner } from './dump-sections.ts';
import type { ObjectKind, Placed, SectionOwner } from './dump-sections.ts';
import { statementCore, SqlModeTracker } from './statement-kind.ts';
import { INDEX_SUFFIX } from '../repository/snapshot-reader.ts';

export const DUMP_INDEX_FORMAT = 'sidestash-dump-index';
export const DUMP_INDEX_VERSION = 1;
/** Name of the index file beside a dump file NAME in a snapshot. */
export const indexFileName = (dumpFile: string): string => `${dumpFile}${INDEX_SUFFIX}`;

/** [start, end): byte offsets in the dump. */
export type ByteRange = [number, number];

export interface IndexedTable {
  name: string;
  structure: ByteRange[];
  data: ByteRange[];
  /** Rows of its INSERT statements, counted from the dump. */
  rows: number;
}

export interface IndexedObject {
  kind: ObjectKind;
  name: string;
  /** For a trigger: its table. */
  table?: string;
  ranges: ByteRange[];
}

export interface IndexedDatabase {
  /** '' for the tables of a dump that names no database. */
  name: string;
  /** CREATE/DROP DATABASE and USE. */
  statements: ByteRange[];
  tables: IndexedTable[];
  objects: IndexedObject[];
}

export interface DumpIndex {
  format: typeof DUMP_INDEX_FORMAT;
  version: typeof DUMP_INDEX_VERSION;
  /** Size of the dump the ranges are of. */
  dumpBytes: number;
  header: ByteRange[];
  databases: IndexedDatabase[];
}

export type DumpIndexResult = { ok: true; index: DumpIndex } | { ok: false; reason: string };

function addRange(ranges: ByteRange[], start: number, end: number): void {
  const last = ranges[ranges.length - 1];
  if (last && last[1] === start) last[1] = end;
  else ranges.push([start, end]);
}

export class DumpIndexBuilder {
  readonly #sections = new DumpSectioner();
  readonly #mode = new SqlModeTracker();
  /** Whether backslashes escaped where each waiting statement started. */
  readonly #escapesAt = new WeakMap<ClassifiedStatement, boolean>();
  readonly #databases = new Map<string, { db: IndexedDatabase; tables: Map<string, IndexedTable>; objects: Map<string, IndexedObject> }>();
  readonly #header: ByteRange[] = [];
  #last: SectionOwner | undefined;
  /** The range the last placed statement went into, extended while the owner stays. */
  #range: ByteRange | undefined;
  #problem: string | undefined;
  #bytes = 0;

  /** The statement before each (its end and delimiter): a section may start there, before a DELIMITER line. */
  readonly #previous = new WeakMap<ClassifiedStatement, { end: number; delimiter: string }>();
  #prev: { end: number; delimiter: string } = { end: 0, delimiter: ';' };

  add(st: ClassifiedStatement): void {
    this.#escapesAt.set(st, this.#mode.backslashEscapes);
    this.#previous.set(st, this.#prev);
    this.#prev = { end: st.end, delimiter: st.delimiter };
    if (st.what.kind === 'session') this.#mode.follow(statementCore(st.head.toString('latin1')));
    if (st.end > this.#bytes) this.#bytes = st.end;
    if (this.#problem) return;
    for (const p of this.#sections.place(st)) this.#put(p);
  }

  /** The index, or why the dump cannot have one. `dumpBytes`: the dump's whole size. */
  finish(dumpBytes: number): DumpIndexResult {
    for (const p of this.#sections.end()) this.#put(p);
    if (this.#problem) return { ok: false, reason: this.#problem };
    if (this.#bytes > dumpBytes) return { ok: false, reason: `statements end at byte ${this.#bytes}, past the dump's ${dumpBytes} bytes` };
    const databases = [...this.#databases.values()].map(({ db }) => db);
    return { ok: true, index: { format: DUMP_INDEX_FORMAT, version: DUMP_INDEX_VERSION, dumpBytes, header: this.#header, databases } };
  }

  #entry(name: string): { db: IndexedDatabase; tables: Map<string, IndexedTable>; objects: Map<string, IndexedObject> } {
    let e = this.#databases.get(name);
    if (!e) {
      e = { db: { name, statements: [], tables: [], objects: [] }, tables: new Map(), objects: new Map() };
      this.#databases.set(name, e);
    }
    return e;
  }

  #table(database: string, name: string): IndexedTable {
    const e = this.#entry(database);
    let t = e.tables.get(name);
    if (!t) {
      t = { name, structure: [], data: [], rows: 0 };
      e.tables.set(name, t);
      e.db.tables.push(t);
    }
    return t;
  }

  #rangesOf(owner: SectionOwner): ByteRange[] {
    switch (owner.part) {
      case 'header':
        return this.#header;
      case 'database':
        return this.#entry(owner.database).db.statements;
      case 'structure':
        return this.#table(owner.database, owner.table).structure;
      case 'data':
        return this.#table(owner.database, owner.table).data;
      case 'object': {
        const e = this.#entry(owner.database);
        const key = `${owner.kind}\0${owner.name}`;
        let o = e.objects.get(key);
        if (!o) {
          o = { kind: owner.kind, name: owner.name, ranges: [] };
          if (owner.table !== undefined) o.table = owner.table;
          e.objects.set(key, o);
          e.db.objects.push(o);
        }
        return o.ranges;
      }
    }
  }

  #put({ statement: st, owner }: Placed): void {
    if (this.#problem) return;
    if (st.what.kind === 'data' && owner.part === 'data') this.#table(owner.database, owner.table).rows += st.what.rows;
    if (this.#last && sameOwner(this.#last, owner) && this.#range) {
      this.#range[1] = st.end;
      return;
    }
    // A new section: a fresh splitter must read from its start as the dump's own did. Under
    // another delimiter it starts where the statement before it ended with ';', so that it
    // holds the DELIMITER line between them.
    let start = st.offset;
    if (st.delimiter !== ';' && st.delimiter !== '') {
      const before = this.#previous.get(st);
      if (!before || before.delimiter !== ';' || (this.#range && before.end < this.#range[1])) {
        this.#problem = `a section starts at byte ${st.offset} under DELIMITER ${st.delimiter}`;
        return;
      }
      start = before.end;
    }
    if (this.#escapesAt.get(st) === false) {
      this.#problem = `a section starts at byte ${st.offset} under sql_mode NO_BACKSLASH_ESCAPES`;
      return;
    }
    const ranges = this.#rangesOf(owner);
    addRange(ranges, start, st.end);
    this.#range = ranges[ranges.length - 1];
    this.#last = owner;
  }
}
