// The per-table check of a restore (RestoreSession status.tables) as `describe` shows it:
// mismatches first (the agent orders them so), each table's rows in the dump and restored.
import { table } from './format.ts';

const str = (v: unknown): string => (typeof v === 'string' ? v : '-');
const num = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? String(v) : '-');

/** The "Tables:" block's table, or undefined when the status has none. */
export function restoreTablesTable(tables: unknown): string | undefined {
  if (!Array.isArray(tables) || tables.length === 0) return undefined;
  const rows = tables.map((t: unknown) => {
    const o = (t && typeof t === 'object' ? t : {}) as Record<string, unknown>;
    const ok = typeof o.expectedRows === 'number' && o.expectedRows === o.restoredRows;
    return [`${str(o.database)}.${str(o.table)}`, num(o.expectedRows), num(o.restoredRows), ok ? 'ok' : 'MISMATCH', typeof o.checksum === 'string' ? o.checksum : '-'];
  });
  return table(['TABLE', 'DUMP ROWS', 'RESTORED ROWS', 'CHECK', 'CHECKSUM'], rows);
}

/** "--parallel N" parsed: an integer from 1 to 64. */
export function parallelOption(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = /^[0-9]{1,2}$/.test(v) ? Number(v) : NaN;
  return n >= 1 && n <= 64 ? n : NaN;
}
