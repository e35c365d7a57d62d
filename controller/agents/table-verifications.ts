// A restore's per-table check as an agent reports it (SessionResult.tables): untrusted like
// every other result field. A list of at most MAX_VERIFIED_TABLES objects of a database name, a
// table name (strings of 1..256 characters, terminal controls removed), two non-negative integer
// counts and an optional checksum (digits, or empty for a table CHECKSUM TABLE cannot read).
// Anything else is refused naming the field; unknown fields are dropped.
import { MAX_VERIFIED_TABLES } from '../../common/protocol.ts';
import type { TableVerification } from '../../common/protocol.ts';
import { stripTerminalControls } from '../../common/terminal-text.ts';

const MAX_NAME_CHARS = 256;
const CHECKSUM = /^[0-9]{1,20}$/;

export interface FieldProblem {
  field: string;
  message: string;
}

export function parseTableVerifications(v: unknown, problems: FieldProblem[]): TableVerification[] | undefined {
  if (!Array.isArray(v)) {
    problems.push({ field: 'tables', message: 'must be a list' });
    return undefined;
  }
  if (v.length > MAX_VERIFIED_TABLES) {
    problems.push({ field: 'tables', message: `must have at most ${MAX_VERIFIED_TABLES} entries, got ${v.length}` });
    return undefined;
  }
  const before = problems.length;
  const out: TableVerification[] = [];
  v.forEach((t: unknown, i: number) => {
    const at = `tables[${i}]`;
    if (!t || typeof t !== 'object' || Array.isArray(t)) {
      problems.push({ field: at, message: 'must be an object' });
      return;
    }
    const r = t as Record<string, unknown>;
    const name = (k: 'database' | 'table'): string | undefined => {
      const s = r[k];
      if (typeof s === 'string' && s.length >= 1 && s.length <= MAX_NAME_CHARS) return stripTerminalControls(s);
      problems.push({ field: `${at}.${k}`, message: `must be a string of 1 to ${MAX_NAME_CHARS} characters` });
      return undefined;
    };
    const count = (k: 'expectedRows' | 'restoredRows'): number | undefined => {
      const n = r[k];
      if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return n;
      problems.push({ field: `${at}.${k}`, message: 'must be a non-negative integer' });
      return undefined;
    };
    const database = name('database');
    const table = name('table');
    const expectedRows = count('expectedRows');
    const restoredRows = count('restoredRows');
    if (r.checksum !== undefined && !(typeof r.checksum === 'string' && CHECKSUM.test(r.checksum))) problems.push({ field: `${at}.checksum`, message: 'must be a string of digits (CHECKSUM TABLE)' });
    if (database === undefined || table === undefined || expectedRows === undefined || restoredRows === undefined) return;
    out.push({ database, table, expectedRows, restoredRows, ...(typeof r.checksum === 'string' && CHECKSUM.test(r.checksum) ? { checksum: r.checksum } : {}) });
  });
  return problems.length > before ? undefined : out;
}
