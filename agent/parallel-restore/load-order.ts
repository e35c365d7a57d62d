// The order in which the parallel loader takes a dump's statements (dump-loader.ts): the dump's
// own, with two changes.
// - A CREATE TABLE that reads another table (... SELECT, (LIKE s): create-table-reads.ts) is
//   planned as an ordered statement, after everything before it, as restore-plan.ts promises:
//   classified as table DDL it waited only for its own table and could run before the rows it
//   selects had loaded on another connection.
// - Over more than one connection, ENABLE KEYS statements are held back (defer-enable-keys.ts).
//   Over one connection holding them saves nothing (nothing waits on another connection), and a
//   one-connection load (a binary log's replay, agent/binlog/binlog-replay.ts) runs its
//   statements exactly in order.
import type { ClassifiedStatement } from '../../common/sql-dump/dump-statements.ts';
import { createTableReads } from '../../common/sql-dump/create-table-reads.ts';
import { deferEnableKeys } from './defer-enable-keys.ts';

async function* orderCreateSelect(statements: AsyncIterable<ClassifiedStatement>): AsyncGenerator<ClassifiedStatement> {
  for await (const st of statements) {
    const w = st.what;
    // Without the text (never in the loader) it cannot tell: ordered.
    if (w.kind === 'table-ddl' && w.verb === 'create' && (st.text === undefined || createTableReads(st.text.toString('latin1')))) st.what = { kind: 'ordered' };
    yield st;
  }
}

export function loadOrder(statements: AsyncIterable<ClassifiedStatement>, parallel: number): AsyncIterable<ClassifiedStatement> {
  const ordered = orderCreateSelect(statements);
  return parallel > 1 ? deferEnableKeys(ordered) : ordered;
}
