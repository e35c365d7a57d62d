import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { MAX_VERIFIED_TABLES } from '../../common/protocol.ts';
import { parseResult } from './agent-reports.ts';

const ok = { database: 'shop', table: 'orders', expectedRows: 10, restoredRows: 10 };
const result = (tables: unknown) => parseResult({ phase: 'Failed', error: { code: 'SIDESTASH_RESTORE_VERIFY_FAILED', message: 'x' }, tables });

describe("a restore's per-table check from an agent", () => {
  it('keeps well-formed entries, drops unknown fields, strips terminal controls', () => {
    assert.deepEqual(result([{ ...ok, checksum: '12345', extra: 'dropped' }, { ...ok, table: 'a\u001b[31mb', restoredRows: 0 }]).tables, [
      { ...ok, checksum: '12345' },
      { ...ok, table: 'ab', restoredRows: 0 },
    ]);
  });
  const bad: [string, unknown, RegExp][] = [
    ['not a list', { a: 1 }, /tables: must be a list/],
    ['too many', Array.from({ length: MAX_VERIFIED_TABLES + 1 }, () => ok), /tables: must have at most/],
    ['an entry not an object', [ok, 'x'], /tables\[1\]: must be an object/],
    ['a negative count', [{ ...ok, restoredRows: -1 }], /tables\[0\]\.restoredRows: must be a non-negative integer/],
    ['a fractional count', [{ ...ok, expectedRows: 1.5 }], /tables\[0\]\.expectedRows/],
    ['an empty name', [{ ...ok, database: '' }], /tables\[0\]\.database/],
    ['a long name', [{ ...ok, table: 'x'.repeat(257) }], /tables\[0\]\.table/],
    ['a checksum not of digits', [{ ...ok, checksum: 'abc' }], /tables\[0\]\.checksum/],
  ];
  for (const [name, tables, message] of bad) {
    it(`refuses ${name}, naming the field`, () => {
      assert.throws(() => result(tables), (err) => isSidestashError(err, ErrorCodes.INVALID_ARGUMENT) && message.test(err.message));
    });
  }

  it('refuses a Succeeded result whose per-table check shows rows lost (or extra), and keeps one that matches', () => {
    for (const restoredRows of [3, 11]) {
      assert.throws(() => parseResult({ phase: 'Succeeded', tables: [ok, { ...ok, table: 'lines', restoredRows }] }), (err) => isSidestashError(err, ErrorCodes.INVALID_ARGUMENT) && /tables: a Succeeded result cannot have tables whose restored rows differ/.test(err.message));
    }
    assert.deepEqual(parseResult({ phase: 'Succeeded', tables: [ok] }).tables, [ok]);
  });
});
