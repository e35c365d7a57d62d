import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StatementKind } from '../../common/sql-dump/statement-kind.ts';
import { RestorePlanner, SPREAD_BYTES, turnsAutocommitOff } from './restore-plan.ts';
import type { PlannedStatement } from './restore-plan.ts';

const set: StatementKind = { kind: 'session' };
const use = (database: string): StatementKind => ({ kind: 'use', database });
const drop = (table: string): StatementKind => ({ kind: 'table-ddl', table, verb: 'drop' });
const create = (table: string): StatementKind => ({ kind: 'table-ddl', table, verb: 'create' });
const alter = (table: string): StatementKind => ({ kind: 'table-ddl', table, verb: 'alter' });
const rows = (table: string, database?: string): StatementKind => ({ kind: 'data', table, rows: 10, ...(database ? { database } : {}) });
const lock: StatementKind = { kind: 'lock' };
const ordered: StatementKind = { kind: 'ordered' };
const createDb = (database: string): StatementKind => ({ kind: 'create-database', database });

/** Plans statements with the queued bytes given for each (as the loader would see them). */
function plan(connections: number, steps: [StatementKind, number[]][]): Omit<PlannedStatement, 'table'>[] {
  const p = new RestorePlanner(connections);
  return steps.map(([what, queued]) => {
    const { table: _t, ...rest } = p.plan(what, queued);
    return rest;
  });
}

describe('RestorePlanner', () => {
  it("plans mariadb-dump's table sections: session statements everywhere, a table at home until its connection is a statement behind, CREATE TABLE b beside a's rows", () => {
    const M = SPREAD_BYTES;
    const got = plan(2, [
      [set, [0, 0]], //                    0: SET NAMES on both
      [createDb('shop'), [0, 0]], //      1: barrier, after 0 on both
      [use('shop'), [0, 0]], //            2: both, after the barrier
      [drop('a'), [0, 0]], //              3: a's home: connection 0
      [create('a'), [0, 0]], //            4: after DROP a, at home
      [lock, [0, 0]], //                   5: skipped
      [alter('a'), [0, 0]], //             6: DISABLE KEYS
      [rows('a'), [0, 0]], //              7: connection 0
      [rows('a'), [M, 0]], //              8: still 0 (SPREAD_BYTES more queued is not past it)
      [rows('a'), [2 * M, 0]], //          9: connection 1, a's home now, after a's DDL on 0
      [rows('a'), [2 * M, M]], //         10: connection 1
      [alter('a'), [2 * M, 2 * M]], //    11: ENABLE KEYS at home, after a's rows on 0
      [lock, [2 * M, 2 * M]], //          12
      [drop('b'), [2 * M, 3 * M]], //     13: b's home: 0; waits for no data of a (only the CREATE DATABASE)
      [create('b'), [2 * M, 3 * M]], //   14
      [rows('b'), [2 * M, 2 * M]], //     15
      [ordered, [10, 10]], //             16: a view: after everything
      [rows('b'), [5, 0]], //             17: after the barrier, at a new home
    ]);
    assert.deepEqual(got, [
      { index: 0, connections: [0, 1], waits: [] },
      { index: 1, connections: [0], waits: [{ connection: 1, index: 0 }] },
      { index: 2, connections: [0, 1], waits: [{ connection: 0, index: 1 }] },
      { index: 3, connections: [0], waits: [] },
      { index: 4, connections: [0], waits: [] },
      { index: 5, connections: [], waits: [] },
      { index: 6, connections: [0], waits: [] },
      { index: 7, connections: [0], waits: [] },
      { index: 8, connections: [0], waits: [] },
      { index: 9, connections: [1], waits: [{ connection: 0, index: 6 }] },
      { index: 10, connections: [1], waits: [{ connection: 0, index: 6 }] },
      { index: 11, connections: [1], waits: [{ connection: 0, index: 8 }] },
      { index: 12, connections: [], waits: [] },
      { index: 13, connections: [0], waits: [] },
      { index: 14, connections: [0], waits: [] },
      { index: 15, connections: [0], waits: [] },
      { index: 16, connections: [0], waits: [{ connection: 1, index: 11 }] },
      { index: 17, connections: [1], waits: [{ connection: 0, index: 16 }] },
    ]);
  });

  it('loads small tables side by side: each table on one connection, no wait on another', () => {
    const p = new RestorePlanner(2);
    const queued = [0, 0];
    const homes: number[][] = [];
    for (const t of ['a', 'b', 'c', 'd']) {
      const on = new Set<number>();
      for (const what of [drop(t), create(t), alter(t), rows(t), rows(t), alter(t)]) {
        const s = p.plan(what, queued);
        assert.deepEqual(s.waits, [], `${t}: ${what.kind}`);
        for (const c of s.connections) {
          on.add(c);
          queued[c]! += what.kind === 'data' ? 400 * 1024 : 100;
        }
      }
      homes.push([...on]);
    }
    assert.deepEqual(homes, [[0], [1], [0], [1]]);
  });

  it('moves a table only to a connection about to run dry, and only when its home has more than a statement beyond that', () => {
    const M = SPREAD_BYTES;
    const p = new RestorePlanner(2);
    p.plan(create('a'), [0, 0]);
    // Far behind, but connection 1 still has more than a statement queued: a stays on 0.
    assert.deepEqual(p.plan(rows('a'), [6 * M, M + 1]).connections, [0]);
    // Connection 1 is on its last statement, and 0 has more than a statement beyond it: a moves.
    assert.deepEqual(p.plan(rows('a'), [6 * M, M]).connections, [1]);
    // Its new home holds it while connection 0 has more than a statement queued...
    assert.deepEqual(p.plan(rows('a'), [M + 1, 4 * M]).connections, [1]);
    // ...or when 0 is low but not a statement behind.
    assert.deepEqual(p.plan(rows('a'), [M, 2 * M]).connections, [1]);
    assert.deepEqual(p.plan(rows('a'), [M, 2 * M + 1]).connections, [0]);
  });

  it('tells tables apart by database: the USE in force or the qualified name', () => {
    const p = new RestorePlanner(3);
    p.plan(use('a'), [0, 0, 0]);
    assert.deepEqual(p.plan(create('t'), [0, 0, 0]), { index: 1, connections: [0], waits: [], table: { database: 'a', table: 't' } });
    p.plan(use('b'), [0, 0, 0]);
    // b.t is another table: its CREATE waits for nothing of a.t.
    assert.deepEqual(p.plan(create('t'), [5, 0, 0]), { index: 3, connections: [1], waits: [], table: { database: 'b', table: 't' } });
    // INSERT INTO `a`.`t` goes to a.t's home (connection 0), not b.t's, and waits for nothing of b.t.
    assert.deepEqual(p.plan(rows('t', 'a'), [5, 5, 0]), { index: 4, connections: [0], waits: [], table: { database: 'a', table: 't' } });
    // Away from home (a statement behind), it waits for a.t's DDL on connection 0, not b.t's on 1.
    assert.deepEqual(p.plan(rows('t', 'a'), [2 * SPREAD_BYTES, 5, 0]), { index: 5, connections: [2], waits: [{ connection: 0, index: 1 }], table: { database: 'a', table: 't' } });
    assert.equal(p.currentDatabase, 'b');
  });

  it('orders names that differ only in case as one table (lower_case_table_names=1 or 2 makes them one)', () => {
    const p = new RestorePlanner(2);
    p.plan(use('Shop'), [0, 0]);
    assert.deepEqual(p.plan(create('t'), [0, 0]).connections, [0]);
    // Away from t's home, rows of T wait for t's CREATE; DROP TABLE T waits for those rows.
    assert.deepEqual(p.plan(rows('T'), [2 * SPREAD_BYTES, 0]), { index: 2, connections: [1], waits: [{ connection: 0, index: 1 }], table: { database: 'Shop', table: 'T' } });
    assert.deepEqual(p.plan(drop('T'), [0, 2 * SPREAD_BYTES]).waits, [{ connection: 1, index: 2 }]);
    assert.deepEqual(p.plan(rows('t', 'SHOP'), [2 * SPREAD_BYTES, 0]).waits, [{ connection: 0, index: 3 }]);
  });

  it('starts in the database the connections start in (a dump without USE), until a USE', () => {
    const p = new RestorePlanner(2, 'shop');
    assert.equal(p.currentDatabase, 'shop');
    assert.deepEqual(p.plan(create('t'), [0, 0]).table, { database: 'shop', table: 't' });
    assert.deepEqual(p.plan(rows('t'), [0, 0]).table, { database: 'shop', table: 't' });
    p.plan(use('other'), [0, 0]);
    assert.deepEqual(p.plan(rows('t'), [0, 0]).table, { database: 'other', table: 't' });
  });

  it('refuses no connections', () => {
    assert.throws(() => new RestorePlanner(0), RangeError);
  });

  it('waits only for earlier statements, and a random dump always finishes in an order that keeps every rule (tables away from home too)', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return (seed >>> 8) % n;
    };
    for (const connections of [1, 2, 3, 5]) {
      const p = new RestorePlanner(connections);
      const tables = ['a', 'b', 'c', 'd'];
      const kinds: StatementKind[] = [];
      const plans: PlannedStatement[] = [];
      /** Each statement's table as the dump means it (its database: qualified, or the last USE's). */
      const names: string[] = [];
      let database = '';
      for (let i = 0; i < 400; i++) {
        const r = rnd(40);
        const t = tables[rnd(tables.length)]!;
        const db = rnd(2) ? 'x' : 'y';
        const what: StatementKind =
          r < 14 ? rows(t) : r < 18 ? rows(t, db) : r < 23 ? create(t) : r < 26 ? drop(t) : r < 29 ? set : r < 31 ? use(db) : r < 32 ? ordered : r < 34 ? lock : r < 37 ? alter(t) : r < 38 ? { kind: 'transaction' } : r < 39 ? createDb(db) : { kind: 'drop-database', database: db };
        // The bytes queued as the loader could see them at any moment: up to three INSERTs of
        // mariadb-dump on any connection, so that tables leave their homes (SPREAD_BYTES) too.
        const queued = Array.from({ length: connections }, () => rnd(3 * SPREAD_BYTES));
        const planned = p.plan(what, queued);
        for (const w of planned.waits) assert.ok(w.index < planned.index, 'a wait points backwards');
        if (what.kind === 'use') database = what.database;
        names.push(what.kind === 'data' ? `${what.database ?? database}.${what.table}` : what.kind === 'table-ddl' ? `${database}.${what.table}` : '');
        kinds.push(what);
        plans.push(planned);
      }
      // Runs the plan: any connection whose head may run runs it, chosen at random.
      const fifos = Array.from({ length: connections }, (_, c) => plans.filter((s) => s.connections.includes(c)).map((s) => s.index));
      const doneOn = fifos.map(() => new Set<number>());
      const finished: number[] = [];
      const may = (c: number) => {
        const head = fifos[c]![0];
        return head !== undefined && plans[head]!.waits.every((w) => w.connection === c || !fifos[w.connection]!.some((i) => i <= w.index));
      };
      for (;;) {
        const ready = fifos.map((_, c) => c).filter(may);
        if (ready.length === 0) break;
        const c = ready[rnd(ready.length)]!;
        const i = fifos[c]!.shift()!;
        doneOn[c]!.add(i);
        if (plans[i]!.connections.every((k) => doneOn[k]!.has(i))) finished.push(i);
      }
      assert.deepEqual(fifos.flat(), [], 'no connection is stuck');
      // The rules, in the order things finished.
      const at = new Map(finished.map((i, n) => [i, n]));
      const key = (s: PlannedStatement) => names[s.index]!;
      for (const s of plans) {
        if (s.connections.length === 0) continue;
        for (const e of plans.slice(0, s.index)) {
          if (e.connections.length === 0) continue;
          const barrier = (k: StatementKind) => k.kind === 'ordered' || k.kind === 'create-database' || k.kind === 'drop-database';
          const must = barrier(kinds[s.index]!) || (barrier(kinds[e.index]!) && s.connections.length === 1) || (key(s) !== '' && key(s) === key(e) && (kinds[s.index]!.kind === 'table-ddl' || kinds[e.index]!.kind === 'table-ddl'));
          if (must) assert.ok(at.get(e.index)! < at.get(s.index)!, `${e.index} (${kinds[e.index]!.kind}) finished before ${s.index} (${kinds[s.index]!.kind}) with ${connections} connections`);
        }
      }
    }
  });

  it("knows mariadb-dump --no-autocommit's SET statements of autocommit, and nothing else", () => {
    for (const core of ['SET @OLD_AUTOCOMMIT=@@AUTOCOMMIT, @@AUTOCOMMIT=0 */', 'SET AUTOCOMMIT=@OLD_AUTOCOMMIT', 'set autocommit=0', 'SET autocommit = 0', 'SET SESSION autocommit=OFF', 'SET @@session.autocommit := FALSE']) assert.equal(turnsAutocommitOff(core), true, core);
    for (const core of ['SET autocommit=1', 'SET @OLD_AUTOCOMMIT=@@AUTOCOMMIT', 'SET autocommit=0, unique_checks=0', 'SET GLOBAL autocommit=0', "SET @x='autocommit=0'", 'SET NAMES utf8mb4', 'SELECT 1']) assert.equal(turnsAutocommitOff(core), false, core);
  });
});
