import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeText } from './describe-text.ts';
import { parallelOption, restoreTablesTable } from './restore-tables.ts';

describe('restore tables in describe', () => {
  it('lists each table with its counts, a mismatch marked', () => {
    const text = restoreTablesTable([
      { database: 'shop', table: 'orders', expectedRows: 10, restoredRows: 7 },
      { database: 'shop', table: 'customers', expectedRows: 3, restoredRows: 3, checksum: '42' },
    ])!;
    const lines = text.split('\n').map((l) => l.trim().split(/\s+/));
    assert.deepEqual(lines, [['TABLE', 'DUMP', 'ROWS', 'RESTORED', 'ROWS', 'CHECK', 'CHECKSUM'], ['shop.orders', '10', '7', 'MISMATCH', '-'], ['shop.customers', '3', '3', 'ok', '42']]);
    assert.equal(restoreTablesTable(undefined), undefined);
    assert.equal(restoreTablesTable([]), undefined);
  });
  it("is in a RestoreSession's describe, with its parallelism and binary log setting", () => {
    const text = describeText({ kind: 'RestoreSession', metadata: { name: 'r' }, spec: { parallel: 4, writeBinlog: false }, status: { phase: 'Failed', tables: [{ database: 'd', table: 't', expectedRows: 2, restoredRows: 1 }] } }, { sessions: [], agents: [] }, 0);
    assert.match(text, /Parallel:\s+4/);
    assert.match(text, /Binary log:\s+not written/);
    assert.match(text, /Tables:\n\s+TABLE.*\n\s+d\.t\s+2\s+1\s+MISMATCH/);
  });
  it('takes --parallel 1..64 only', () => {
    assert.equal(parallelOption(undefined), undefined);
    assert.equal(parallelOption('1'), 1);
    assert.equal(parallelOption('64'), 64);
    for (const bad of ['0', '65', '2.5', '-1', 'x', '', '007']) assert.ok(Number.isNaN(parallelOption(bad)), bad);
  });
});
