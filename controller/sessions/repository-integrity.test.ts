import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IntegrityResult } from '../../common/protocol.ts';
import type { RepositoryStatus } from '../resources/types.ts';
import { repositoryStatusAfterCheck } from './repository-integrity.ts';

const NOW = '2026-06-10T12:00:00.000Z';
const AT = '2026-06-10T11:59:00.000Z';
const metaOk: IntegrityResult = { ok: true, checkedAt: AT, errors: [] };
const metaBad: IntegrityResult = { ok: false, checkedAt: AT, errors: ['index: broken'] };
const subsetOk: IntegrityResult = { ok: true, checkedAt: AT, readDataSubset: '5%', errors: [] };
const subsetBad: IntegrityResult = { ok: false, checkedAt: AT, readDataSubset: '5%', errors: ['pack 12: content does not match its name'] };
const allOk: IntegrityResult = { ok: true, checkedAt: AT, readDataSubset: '100%', errors: [] };
const oneOfOneOk: IntegrityResult = { ok: true, checkedAt: AT, readDataSubset: '1/1', errors: [] };
const before = (r: IntegrityResult, lastRead?: string): RepositoryStatus => ({
  integrity: { ok: r.ok, checkedAt: '2026-06-09T00:00:00.000Z', session: 'old', ...(r.readDataSubset ? { readDataSubset: r.readDataSubset } : {}), ...(r.errors.length ? { errors: r.errors } : {}) },
  ...(lastRead ? { lastReadDataCheckAt: lastRead } : {}),
});

describe('the Repository status after a check', () => {
  const table: [string, RepositoryStatus | undefined, IntegrityResult, RepositoryStatus][] = [
    ['a first metadata check', undefined, metaOk, { integrity: { ok: true, checkedAt: AT, session: 'new' } }],
    ['a read-data check sets the read time (the controller\'s clock)', undefined, subsetOk, { lastReadDataCheckAt: NOW, integrity: { ok: true, checkedAt: AT, session: 'new', readDataSubset: '5%' } }],
    ['a failing one records its errors', undefined, subsetBad, { lastReadDataCheckAt: NOW, integrity: { ok: false, checkedAt: AT, session: 'new', readDataSubset: '5%', errors: ['pack 12: content does not match its name'] } }],
    ['a metadata check keeps the last read time', before(subsetOk, '2026-06-01T00:00:00.000Z'), metaOk, { lastReadDataCheckAt: '2026-06-01T00:00:00.000Z', integrity: { ok: true, checkedAt: AT, session: 'new' } }],
    ['a failure replaces a pass', before(metaOk), metaBad, { integrity: { ok: false, checkedAt: AT, session: 'new', errors: ['index: broken'] } }],
    ['a passing metadata check clears a metadata failure', before(metaBad), metaOk, { integrity: { ok: true, checkedAt: AT, session: 'new' } }],
    ['a passing metadata check keeps a data failure', before(subsetBad, '2026-06-09T00:00:00.000Z'), metaOk, before(subsetBad, '2026-06-09T00:00:00.000Z')],
    ['a passing subset keeps a data failure (it may have missed the pack), but counts as a read', before(subsetBad, '2026-06-09T00:00:00.000Z'), subsetOk, { ...before(subsetBad), lastReadDataCheckAt: NOW }],
    ['a passing check of all data clears a data failure', before(subsetBad), allOk, { lastReadDataCheckAt: NOW, integrity: { ok: true, checkedAt: AT, session: 'new', readDataSubset: '100%' } }],
    ['so does 1/1', before(subsetBad), oneOfOneOk, { lastReadDataCheckAt: NOW, integrity: { ok: true, checkedAt: AT, session: 'new', readDataSubset: '1/1' } }],
    ['a new data failure replaces an old one', before(subsetBad), { ...subsetBad, readDataSubset: '100%' }, { lastReadDataCheckAt: NOW, integrity: { ok: false, checkedAt: AT, session: 'new', readDataSubset: '100%', errors: subsetBad.errors } }],
  ];
  for (const [name, current, result, want] of table) {
    it(name, () => assert.deepEqual(repositoryStatusAfterCheck(current, result, 'new', NOW), want));
  }
});
