// What a benchmarked restore must have produced: the same tables with the same CHECKSUM TABLE
// values as the original (a restore that loaded less would look fast), and for a single-table
// restore, whether the runner restored only that table (granular restore) or everything.
import type { MariaDB } from '../test/helpers/mariadb.ts';

const quoteName = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

/** CHECKSUM TABLE of each base table of `database`, by table name (none: an empty map). */
export async function tableChecksums(db: MariaDB, database: string): Promise<Map<string, string>> {
  const names = (await db.sql(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${database.replace(/'/g, "''")}' AND table_type = 'BASE TABLE' ORDER BY table_name`))
    .split('\n')
    .filter((n) => n !== '');
  const sums = new Map<string, string>();
  if (names.length === 0) return sums;
  const out = await db.sql(`CHECKSUM TABLE ${names.map((n) => `${quoteName(database)}.${quoteName(n)}`).join(', ')}`);
  for (const row of out.split('\n').filter((r) => r !== '')) {
    const [qualified, sum] = row.split('\t');
    sums.set(qualified!.slice(database.length + 1), sum!);
  }
  return sums;
}

/** Throws unless `actual` has exactly the tables of `expected` (or only `only` of them), with equal checksums. */
export function checkRestored(what: string, expected: ReadonlyMap<string, string>, actual: ReadonlyMap<string, string>, only?: string): void {
  const want = only === undefined ? [...expected.keys()] : [only];
  const missing = want.filter((t) => !actual.has(t));
  const extra = [...actual.keys()].filter((t) => !want.includes(t));
  const differ = want.filter((t) => actual.has(t) && actual.get(t) !== expected.get(t));
  if (missing.length + extra.length + differ.length > 0) {
    throw new Error(`${what}: restored tables differ from the original (missing: ${missing.join(', ') || 'none'}; unexpected: ${extra.join(', ') || 'none'}; other checksum: ${differ.join(', ') || 'none'})`);
  }
}

export type SingleTableOutcome =
  | { kind: 'restored' }
  | { kind: 'unsupported'; note: string };

/**
 * What a restore asked for one table did. Without granular restore the runner ignores `tables`
 * and restores the whole database, or refuses the field: the case is skipped with that note.
 * Any other difference (the table missing, another checksum) is a broken restore and throws.
 */
export function singleTableOutcome(expected: ReadonlyMap<string, string>, actual: ReadonlyMap<string, string>, table: string, refused?: string): SingleTableOutcome {
  if (refused !== undefined) return { kind: 'unsupported', note: `the restore runner refused \`tables\` (${refused})` };
  if (actual.size > 1 && actual.size >= expected.size) {
    checkRestored('full restore in place of a single table', expected, actual);
    return { kind: 'unsupported', note: `the restore runner ignored \`tables\` and restored all ${actual.size} tables: RestoreAssignment has no \`tables\` yet (granular restore not landed)` };
  }
  checkRestored(`single-table restore of ${table}`, expected, actual, table);
  return { kind: 'restored' };
}
