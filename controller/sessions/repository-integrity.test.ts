import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IntegrityResult } from '../../common/protocol.ts';
import type { RepositoryStatus } from '../resources/types.ts';
import type { ListOptions } from '../store/resource-store.ts';
import { Store } from '../store/store.ts';
import { upsert } from '../store/upsert.ts';
import { clearReadDataCheckPending, repositoryStatusAfterCheck } from './repository-integrity.ts';

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

// Every finish cleared its marker by reading every Repository of the namespace: at 2,000
// Repositories ~13 ms of the event loop a finish (bench/finish-cost.bench.ts).
describe('clearing a finished session\'s read-data marker', () => {
  it('reads only the Repository that names the session, wherever it is, and leaves the others\' markers', async () => {
    const store = new Store(':memory:');
    try {
      const repo = (name: string, status?: RepositoryStatus) => upsert(store, { apiVersion: 'sidestash.io/v1', kind: 'Repository', metadata: { name, namespace: 'default' }, spec: { backend: { local: { path: '/r' } } }, ...(status ? { status } : {}) });
      for (let i = 0; i < 50; i++) await repo(`r${i}`, { lastReadDataCheckAt: '2026-03-01T00:00:00Z' });
      // The marker on a Repository the configuration no longer names (changed since the claim).
      await repo('moved-from', { readDataCheckPending: { session: 's1', since: '2026-03-01T00:00:00Z' }, lastReadDataCheckAt: 'x' });
      await repo('other', { readDataCheckPending: { session: 's2', since: '2026-03-01T00:00:00Z' } });
      let read = 0;
      const lists: (ListOptions | undefined)[] = [];
      const counted = new Proxy(store, {
        get(target, prop) {
          if (prop === 'list') return async (kind: string, options?: ListOptions) => (lists.push(options), (await target.list(kind as never, options)).map((r) => (read++, r)));
          const v = Reflect.get(target, prop, target) as unknown;
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      await clearReadDataCheckPending(counted, 'default', 's1');
      assert.equal(read, 1, `${read} Repositories read (of ${lists.length} lists)`);
      assert.deepEqual((await store.get('Repository', 'default', 'moved-from'))?.status, { lastReadDataCheckAt: 'x' });
      assert.deepEqual((await store.get('Repository', 'default', 'other'))?.status, { readDataCheckPending: { session: 's2', since: '2026-03-01T00:00:00Z' } });
      read = 0;
      await clearReadDataCheckPending(counted, 'default', 's1');
      assert.equal(read, 0, 'none left to clear: none read');
    } finally {
      store.close();
    }
  });
});
