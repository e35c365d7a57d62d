// Whether a CREATE TABLE reads another table: CREATE TABLE t (...) SELECT ... and CREATE TABLE t
// (LIKE s) start like mariadb-dump's CREATE TABLE t (...) and so classify as table DDL
// (statement-kind.ts reads the head), but what they create depends on another table's rows or
// definition: the parallel loader runs them in dump order, after everything before them. Read
// from the whole text with sql-tokens.ts under both backslash modes (the loader does not follow
// sql_mode here); an unquoted SELECT or LIKE anywhere (a CHECK (c LIKE 'x%') too), or a text
// either mode cannot read for sure, counts as reading.
import { sqlTokens } from './sql-tokens.ts';
import type { SqlToken } from './sql-tokens.ts';

const READS = new Set(['SELECT', 'LIKE']);
const reads = (tokens: readonly SqlToken[]): boolean => tokens.some((t) => t.t === 'name' && !t.quoted && READS.has(t.v.toUpperCase()));

export function createTableReads(text: string): boolean {
  for (const backslashEscapes of [true, false]) {
    const t = sqlTokens(text, { backslashEscapes, ansiQuotes: undefined });
    if (!t.ok || reads(t.tokens)) return true;
  }
  return false;
}
