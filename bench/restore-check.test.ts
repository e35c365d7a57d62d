import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MANY_TABLES, ONE_PERCENT_TABLE, planManyTables } from './bench-databases.ts';
import { checkRestored, singleTableOutcome } from './restore-check.ts';

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
