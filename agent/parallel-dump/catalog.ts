// What the dump holds, read from the server once the snapshot is taken: databases, their tables
// (columns, the key chunks are cut on, SHOW CREATE TABLE), views (with their columns for the
// placeholders), triggers, routines and events, each with its SHOW CREATE text. Names come from
// the server and are quoted (sql-text.ts) wherever they go into SQL; nothing here is parsed out
// of a definition.
import type { ColumnInfo } from './row-render.ts';
import { classifyColumn } from './row-render.ts';
import type { DumpConnection } from './dump-connection.ts';
import { quoteName, quoteString } from './sql-text.ts';
import { tableTreatment } from './system-tables.ts';
import type { TableTreatment } from './system-tables.ts';

export interface TableEntry {
  name: string;
  kind: 'table' | 'sequence';
  createSql: string;
  treatment: TableTreatment;
  /** Every stored column (generated ones skipped), in table order. */
  columns: ColumnInfo[];
  /** The integer column chunks are cut on (first column of the primary or a NOT NULL unique key); undefined: read whole. */
  chunkColumn?: string;
  /** The key's columns, for ORDER BY (primary key, or the unique key). */
  orderBy: string[];
  rowsEstimate: number;
}

export interface ObjectEntry {
  name: string;
  /** The SHOW CREATE row, by column name. */
  show: Record<string, string | null>;
}

export interface TriggerEntry extends ObjectEntry {
  table: string;
}

export interface ViewEntry extends ObjectEntry {
  columns: string[];
}

export interface DatabaseEntry {
  name: string;
  createSql: string;
  tables: TableEntry[];
  views: ViewEntry[];
  triggers: TriggerEntry[];
  events: ObjectEntry[];
  routines: (ObjectEntry & { type: string })[];
}

/** Schemas mariadb-dump --all-databases leaves out. */
const NOT_DUMPED = new Set(['information_schema', 'performance_schema', 'sys']);
const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'bigint']);
const ROUTINE_ORDER = ['FUNCTION', 'PROCEDURE', 'PACKAGE', 'PACKAGE BODY'];

/** The databases a dump of `requested` (undefined: all) holds, in dump order. */
export async function listDatabases(conn: DumpConnection, requested?: readonly string[]): Promise<string[]> {
  const all = (await conn.text('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA')).map((r) => r[0]!).sort();
  if (!requested) return all.filter((d) => !NOT_DUMPED.has(d.toLowerCase()));
  const missing = requested.filter((d) => !all.includes(d));
  if (missing.length > 0) throw new Error(`no database ${missing.map((m) => JSON.stringify(m)).join(', ')} on the server`);
  return [...requested];
}

async function showCreate(conn: DumpConnection, what: string, name: string): Promise<Record<string, string | null>> {
  const rows = await conn.queryWithFields(`SHOW CREATE ${what} ${name}`);
  const row = rows.rows[0];
  if (!row) throw new Error(`SHOW CREATE ${what} ${name} returned nothing`);
  return Object.fromEntries(rows.fields.map((f, i) => [f, row[i] === null ? null : row[i]!.toString('utf8')]));
}

export async function readDatabase(conn: DumpConnection, db: string): Promise<DatabaseEntry> {
  const q = quoteName(db);
  const lit = quoteString(db);
  const createSql = (await showCreate(conn, 'DATABASE', q))['Create Database']!;
  const tableRows = await conn.text(`SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${lit} ORDER BY TABLE_NAME`);
  const columnRows = await conn.text(`SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, CHARACTER_SET_NAME, IS_GENERATED FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ${lit} ORDER BY TABLE_NAME, ORDINAL_POSITION`);
  const keyRows = await conn.text(`SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, NULLABLE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ${lit} ORDER BY TABLE_NAME, INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`);
  const columns = new Map<string, { name: string; dataType: string; charset: string | null; generated: boolean }[]>();
  for (const [t, name, dataType, charset, generated] of columnRows) {
    const list = columns.get(t!) ?? [];
    list.push({ name: name!, dataType: dataType!.toLowerCase(), charset: charset ?? null, generated: generated === 'ALWAYS' });
    columns.set(t!, list);
  }
  const tables: TableEntry[] = [];
  const views: ViewEntry[] = [];
  for (const [name, type, engine, rows] of tableRows) {
    const cols = columns.get(name!) ?? [];
    if (type === 'VIEW') {
      if (cols.length === 0) throw new Error(`the view ${db}.${name} has no columns the server can list (it references something that no longer exists?)`);
      views.push({ name: name!, show: await showCreate(conn, 'VIEW', `${q}.${quoteName(name!)}`), columns: cols.map((c) => c.name) });
      continue;
    }
    if (type === 'TEMPORARY') continue;
    const sequence = type === 'SEQUENCE';
    const show = await showCreate(conn, sequence ? 'SEQUENCE' : 'TABLE', `${q}.${quoteName(name!)}`);
    const stored = cols.filter((c) => !c.generated);
    const key = chooseKey(keyRows.filter((r) => r[0] === name), new Map(cols.map((c) => [c.name, c.dataType])));
    tables.push({
      name: name!,
      kind: sequence ? 'sequence' : 'table',
      createSql: (show['Create Table'] ?? show['Create Sequence'] ?? '')!,
      treatment: tableTreatment(db, name!, engine),
      columns: stored.map((c) => ({ name: c.name, kind: classifyColumn(c.dataType, c.charset) })),
      ...(key.chunkColumn ? { chunkColumn: key.chunkColumn } : {}),
      orderBy: key.orderBy,
      rowsEstimate: Number(rows ?? 0) || 0,
    });
  }
  const triggers: TriggerEntry[] = [];
  for (const [name, table] of await conn.text(`SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ${lit} ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER`)) {
    triggers.push({ name: name!, table: table!, show: await showCreate(conn, 'TRIGGER', `${q}.${quoteName(name!)}`) });
  }
  const events: ObjectEntry[] = [];
  for (const [name] of await conn.text(`SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ${lit} ORDER BY EVENT_NAME`)) {
    events.push({ name: name!, show: await showCreate(conn, 'EVENT', `${q}.${quoteName(name!)}`) });
  }
  const routineRows = (await conn.text(`SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ${lit} ORDER BY ROUTINE_NAME`))
    .filter((r) => ROUTINE_ORDER.includes(r[1]!))
    .sort((a, b) => ROUTINE_ORDER.indexOf(a[1]!) - ROUTINE_ORDER.indexOf(b[1]!));
  const routines: DatabaseEntry['routines'] = [];
  for (const [name, type] of routineRows) routines.push({ name: name!, type: type!, show: await showCreate(conn, type!, `${q}.${quoteName(name!)}`) });
  return { name: db, createSql, tables, views, triggers, events, routines };
}

/**
 * The key rows are read in: the primary key if any, else the first unique key whose columns are
 * all NOT NULL; chunks are cut on its first column when that is an integer. Pure.
 */
export function chooseKey(keyRows: readonly (string | null)[][], types: ReadonlyMap<string, string>): { chunkColumn?: string; orderBy: string[] } {
  const byIndex = new Map<string, { unique: boolean; columns: string[]; nullable: boolean }>();
  for (const [, index, nonUnique, column, nullable] of keyRows) {
    const k = byIndex.get(index!) ?? { unique: nonUnique === '0', columns: [], nullable: false };
    k.columns.push(column!);
    if (nullable === 'YES') k.nullable = true;
    byIndex.set(index!, k);
  }
  const pk = byIndex.get('PRIMARY');
  const key = pk ?? [...byIndex.values()].find((k) => k.unique && !k.nullable);
  if (!key) return { orderBy: [] };
  const first = key.columns[0]!;
  return { ...(INTEGER_TYPES.has(types.get(first) ?? '') ? { chunkColumn: first } : {}), orderBy: key.columns };
}
