import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IntegrityCheckAssignment } from '../../common/protocol.ts';
import type { IntegrityCheckSpec, RepositoryStatus } from '../resources/types.ts';
import { integrityCheckPlan } from './integrity-plan.ts';

const NOW = Date.parse('2026-06-10T12:00:00Z');
const ago = (hours: number): string => new Date(NOW - hours * 3_600_000).toISOString();
const passed: RepositoryStatus['integrity'] = { ok: true, checkedAt: ago(1), session: 's-1' };

describe('which check a backup session gets', () => {
  const table: [string, IntegrityCheckSpec | undefined, RepositoryStatus | undefined, IntegrityCheckAssignment | undefined][] = [
    ['default, repository never read: metadata and the default 5%', undefined, undefined, { readDataSubset: '5%' }],
    ['default, read an hour ago: metadata only', undefined, { lastReadDataCheckAt: ago(1), integrity: passed }, {}],
    ['default, read 167h ago: metadata only', undefined, { lastReadDataCheckAt: ago(167) }, {}],
    ['default, read 168h ago: due', undefined, { lastReadDataCheckAt: ago(168) }, { readDataSubset: '5%' }],
    ['disabled: none', { enabled: false }, undefined, undefined],
    ['disabled, even after a failure: none', { enabled: false }, { integrity: { ok: false, checkedAt: ago(1), session: 's-1' } }, undefined],
    ['enabled explicitly', { enabled: true }, { lastReadDataCheckAt: ago(1) }, {}],
    ['own subset and interval, due', { readDataSubset: '2/7', readDataInterval: '24h' }, { lastReadDataCheckAt: ago(25) }, { readDataSubset: '2/7' }],
    ['own interval, not due', { readDataInterval: '24h' }, { lastReadDataCheckAt: ago(23) }, {}],
    ['interval 0s: every check reads', { readDataInterval: '0s', readDataSubset: '100%' }, { lastReadDataCheckAt: ago(0) }, { readDataSubset: '100%' }],
    ['the last failed: read all data', { readDataSubset: '1%' }, { lastReadDataCheckAt: ago(1), integrity: { ok: false, checkedAt: ago(1), session: 's-1', readDataSubset: '1%' } }, { readDataSubset: '100%' }],
    ['a metadata failure: read all data too', undefined, { lastReadDataCheckAt: ago(1), integrity: { ok: false, checkedAt: ago(1), session: 's-1' } }, { readDataSubset: '100%' }],
    ['a read time in the future (clock set back): due', undefined, { lastReadDataCheckAt: ago(-5) }, { readDataSubset: '5%' }],
    ['an unreadable read time: due', undefined, { lastReadDataCheckAt: 'yesterday' }, { readDataSubset: '5%' }],
    ['another session is reading now: metadata only', undefined, { readDataCheckPending: { session: 'other-1', since: ago(2) } }, {}],
    ['another session is reading now, after a failure: metadata only', undefined, { readDataCheckPending: { session: 'other-1', since: ago(2) }, integrity: { ok: false, checkedAt: ago(3), session: 's-1' } }, {}],
    ['a pending read 24h old (its session long gone): due', undefined, { readDataCheckPending: { session: 'other-1', since: ago(24) } }, { readDataSubset: '5%' }],
    ['a pending read dated in the future: ignored', undefined, { readDataCheckPending: { session: 'other-1', since: ago(-1) } }, { readDataSubset: '5%' }],
    ['a pending read with an unreadable time: ignored', undefined, { readDataCheckPending: { session: 'other-1', since: 'soon' } }, { readDataSubset: '5%' }],
    ['a stored subset apply would refuse: metadata only', { readDataSubset: '0/3' }, undefined, {}],
    ['a stored interval apply would refuse: metadata only', { readDataInterval: 'weekly' }, undefined, {}],
  ];
  for (const [name, spec, repository, want] of table) {
    it(name, () => assert.deepEqual(integrityCheckPlan(spec, repository, NOW), want));
  }
});
