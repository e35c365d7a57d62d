import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MANY_TABLES, ONE_PERCENT_TABLE, planManyTables } from './bench-databases.ts';
import { startMariaDB } from '../test/helpers/mariadb.ts';
import { checkRestored, singleTableOutcome, tableChecksums } from './restore-check.ts';

const original = new Map([['a', '11'], ['b', '22'], ['small', '33']]);

test('checkRestored accepts the same tables with the same checksums and names what differs', () => {
  checkRestored('x', original, new Map(original));
  checkRestored('x', original, new Map([['small', '33']]), 'small');
  const cases: [Map<string, string>, string | undefined, RegExp][] = [
    [new Map([['a', '11'], ['b', '22']]), undefined, /missing: small; unexpected: none; other checksum: none/],
    [new Map([...original, ['c', '44']]), undefined, /missing: none; unexpected: c;/],
    [new Map([['a', '11'], ['b', '99'], ['small', '33']]), undefined, /other checksum: b\)/],
    [new Map([['small', '33'], ['a', '11']]), 'small', /unexpected: a;/],
    [new Map(), 'small', /missing: small;/],
  ];
  for (const [actual, only, message] of cases) assert.throws(() => checkRestored('x', original, actual, only), message);
});

test('singleTableOutcome: one table restored, or the runner ignored or refused tables, or a broken restore', () => {
  assert.deepEqual(singleTableOutcome(original, new Map([['small', '33']]), 'small'), { kind: 'restored' });
  const ignored = singleTableOutcome(original, new Map(original), 'small');
  assert.equal(ignored.kind, 'unsupported');
  assert.match(ignored.kind === 'unsupported' ? ignored.note : '', /ignored `tables` and restored all 3 tables/);
  const refused = singleTableOutcome(original, new Map(), 'small', 'SIDESTASH_INVALID_ARGUMENT: unknown field tables');
  assert.deepEqual(refused, { kind: 'unsupported', note: 'the restore runner refused `tables` (SIDESTASH_INVALID_ARGUMENT: unknown field tables)' });
  // Broken restores are errors, never a skipped case: the table missing or different, a
  // partial database, or a "full" restore with other data.
  assert.throws(() => singleTableOutcome(original, new Map(), 'small'), /missing: small/);
  assert.throws(() => singleTableOutcome(original, new Map([['small', '34']]), 'small'), /other checksum: small/);
  assert.throws(() => singleTableOutcome(original, new Map([['small', '33'], ['a', '11']]), 'small'), /unexpected: a/);
  assert.throws(() => singleTableOutcome(original, new Map([['a', '11'], ['b', '22'], ['small', '0']]), 'small'), /full restore in place of a single table.*other checksum: small/);
});

test('planManyTables: 50 tables of mixed sizes adding up to the size asked for, the first ~1% of it', () => {
  for (const mib of [64, 1024]) {
    const plan = planManyTables(mib);
    assert.equal(plan.length, MANY_TABLES);
    assert.equal(new Set(plan.map((t) => t.name)).size, MANY_TABLES);
    const bytes = (t: (typeof plan)[number]): number => t.rows * { orders: 150, documents: 1000, counters: 40 }[t.shape];
    const total = plan.reduce((n, t) => n + bytes(t), 0);
    assert.ok(Math.abs(total / (mib * 1048576) - 1) < 0.01, `total ${total}`);
    assert.equal(plan[0]!.name, ONE_PERCENT_TABLE);
    assert.ok(Math.abs(bytes(plan[0]!) / total - 0.01) < 0.001);
    const sizes = plan.slice(1).map(bytes);
    assert.ok(Math.max(...sizes) / Math.min(...sizes) > 50, 'mixed sizes');
    assert.deepEqual(new Set(plan.map((t) => t.shape)), new Set(['orders', 'documents', 'counters']));
  }
  assert.deepEqual(planManyTables(64), planManyTables(64));
});

test('tableChecksums: every base table of one database by name, and a changed or emptied table gets another checksum', async () => {
  const db = await startMariaDB();
  try {
    await db.sql("CREATE DATABASE `b-1`; CREATE TABLE `b-1`.t1 (id INT PRIMARY KEY, s TEXT); CREATE TABLE `b-1`.`t 2` (id INT PRIMARY KEY); CREATE VIEW `b-1`.v AS SELECT id FROM `b-1`.t1; CREATE DATABASE other; CREATE TABLE other.t1 (id INT PRIMARY KEY)");
    await db.sql("INSERT INTO `b-1`.t1 VALUES (1, 'a'), (2, 'b'); INSERT INTO `b-1`.`t 2` VALUES (7)");
    const before = await tableChecksums(db, 'b-1');
    assert.deepEqual([...before.keys()], ['t 2', 't1']);
    assert.ok([...before.values()].every((v) => /^\d+$/.test(v) && v !== '0'), JSON.stringify([...before]));
    checkRestored('same', before, await tableChecksums(db, 'b-1'));
    await db.sql("UPDATE `b-1`.t1 SET s = 'c' WHERE id = 2");
    assert.throws(() => checkRestored('changed', before, new Map()), /missing: t 2, t1/);
    await tableChecksums(db, 'b-1').then((after) => assert.throws(() => checkRestored('changed', before, after), /other checksum: t1\)/));
    await db.sql('TRUNCATE TABLE `b-1`.`t 2`');
    await tableChecksums(db, 'b-1').then((after) => assert.throws(() => checkRestored('emptied', before, after), /other checksum: t 2, t1\)/));
    await db.sql('DROP DATABASE `b-1`');
    assert.equal((await tableChecksums(db, 'b-1')).size, 0);
  } finally {
    await db.stop();
  }
});
