import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { integrityCell, integrityMessage, repositoryRow } from './integrity-cells.ts';

const NOW = Date.parse('2026-06-10T12:00:00Z');

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

  it('a Repository row: integrity, when checked, when data was last read', () => {
    const row = repositoryRow('repo', '2026-06-01T12:00:00Z', { integrity: { ok: false, checkedAt: '2026-06-10T11:00:00Z', readDataSubset: '100%', session: 's', errors: ['pack 1: bad'] }, lastReadDataCheckAt: '2026-06-10T11:00:00Z' }, NOW);
    assert.deepEqual(row, ['repo', 'FAILED (100%)', '60m', '60m', '9d', 'repository check failed: pack 1: bad']);
    assert.deepEqual(repositoryRow('fresh', '2026-06-10T11:59:00Z', undefined, NOW), ['fresh', '-', '-', '-', '60s', '']);
  });
});
