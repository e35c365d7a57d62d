// Prepared statements kept per database and SQL text: preparing one per call (as the store, the
// agent registry and the enrolment tokens did) parsed the SQL on every agent call and left each
// native statement for the garbage collector to finalize. Every SQL text given here must come
// from a fixed set (literals, or a few combinations of literal fragments), never from input.
import type { DatabaseSync, StatementSync } from 'node:sqlite';

const caches = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

/** The statement for `sql` on `db`, prepared on first use; closing `db` finalizes them all. */
export function statement(db: DatabaseSync, sql: string): StatementSync {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  let st = cache.get(sql);
  if (!st) {
    st = db.prepare(sql);
    cache.set(sql, st);
  }
  return st;
}

/** Drops the statements kept for `db` (before it closes). */
export function forgetStatements(db: DatabaseSync): void {
  caches.delete(db);
}
