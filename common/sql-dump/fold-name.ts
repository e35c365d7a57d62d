// Table and database names as the server may compare them: with lower_case_table_names=1 or 2
// (Windows, macOS, and servers set so on Linux) `Orders` and `orders` are one table, and which
// the server runs with is not known while a dump is planned. Folding merges names that one
// server keeps apart: the planner then orders them as one table (a wait more, never one less).
/**
 * Lower case, each character whose lower case begins with an ASCII letter as that letter (the
 * Kelvin sign as k, İ as i: MariaDB's utf8 lower case), so that a name that could equal an
 * ASCII name under any such folding folds to it.
 */
export function foldName(name: string): string {
  let out = '';
  for (const ch of name) {
    const lower = ch.toLowerCase();
    out += lower.charCodeAt(0) < 0x80 ? lower[0]! : lower;
  }
  return out;
}
