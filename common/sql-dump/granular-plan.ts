// The pure plan of a granular read: which byte ranges of the dump a selection needs, from the
// dump index. The header; for a database all of its ranges; for a table its database's first
// statements (CREATE DATABASE/USE: the selection follows them to know where the table is), its
// structure, data and triggers. Sorted and merged, so each range is read once, in dump order.
import type { ByteRange, DumpIndex, IndexedDatabase } from './dump-index.ts';
import { notInDumpError } from './dump-selection.ts';
import type { DumpSelection } from './dump-selection.ts';

export interface GranularPlan {
  ranges: ByteRange[];
  /** Bytes the ranges cover. */
  bytes: number;
}

/** A dump that names no database holds its tables in whichever the selection names. */
function databaseOf(index: DumpIndex, name: string): IndexedDatabase | undefined {
  const named = index.databases.find((d) => d.name === name);
  if (named) return named;
  return index.databases.length === 1 && index.databases[0]!.name === '' ? index.databases[0] : undefined;
}

export function mergeRanges(ranges: readonly ByteRange[]): ByteRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: ByteRange[] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

export function planGranularRead(index: DumpIndex, selection: DumpSelection): GranularPlan {
  const ranges: ByteRange[] = [...index.header];
  const missing: { database: string; table?: string }[] = [];
  if (selection.database !== undefined) {
    const db = databaseOf(index, selection.database);
    if (!db) missing.push({ database: selection.database });
    else {
      ranges.push(...db.statements);
      for (const t of db.tables) ranges.push(...t.structure, ...t.data);
      for (const o of db.objects) ranges.push(...o.ranges);
    }
  }
  for (const want of selection.tables ?? []) {
    const db = databaseOf(index, want.database);
    const table = db?.tables.find((t) => t.name === want.table);
    if (!db || !table) {
      missing.push(want);
      continue;
    }
    if (db.statements.length > 0) ranges.push(db.statements[0]!);
    ranges.push(...table.structure, ...table.data);
    for (const o of db.objects) if (o.kind === 'trigger' && o.table === want.table) ranges.push(...o.ranges);
  }
  if (missing.length > 0) {
    throw notInDumpError(missing, new Map(index.databases.map((d) => [d.name, d.tables.map((t) => t.name)])));
  }
  const merged = mergeRanges(ranges);
  return { ranges: merged, bytes: merged.reduce((n, [s, e]) => n + e - s, 0) };
}
