import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { integrityCell, integrityMessage } from './integrity-cells.ts';

describe('how get shows a repository check', () => {
  const table: [string, unknown, string, string | undefined][] = [
    ['none ran', undefined, '-', undefined],
    ['a metadata check passed', { ok: true, checkedAt: '2026-06-10T11:00:00Z', errors: [] }, 'ok', undefined],
    ['a subset read passed', { ok: true, readDataSubset: '5%', errors: [] }, 'ok (5%)', undefined],
    ['failed with problems', { ok: false, readDataSubset: '1/1', errors: ['pack 1: content does not match its name', 'pack 2: x'] }, 'FAILED (1/1)', 'repository check failed: pack 1: content does not match its name (+1 more)'],
    ['failed with one problem', { ok: false, errors: ['index: unreadable'] }, 'FAILED', 'repository check failed: index: unreadable'],
    ['failed without a problem listed', { ok: false }, 'FAILED', 'repository check failed'],
    ['not of the expected shape', { ok: 'yes' }, '-', undefined],
    ['a string', 'ok', '-', undefined],
  ];
  for (const [name, v, cell, message] of table) {
    it(name, () => {
      assert.equal(integrityCell(v), cell);
      assert.equal(integrityMessage(v), message);
    });
  }

});
