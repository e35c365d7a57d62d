// The resource store's contract (resource-store.ts), one suite for every implementation: the
// sqlite store runs it (sqlite-store.test.ts), the Kubernetes store will. `open` gives a fresh,
// empty store for each test.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import type { Kind, Resource } from '../resources/types.ts';
import { matchesListFields } from './list-fields.ts';
import { byCreation } from './resource-order.ts';
import type { ResourceEvent, ResourceStore } from './resource-store.ts';
import { isStaleVersion, retryOnConflict } from './retry-on-conflict.ts';

type Doc = Resource<Record<string, unknown>, Record<string, unknown>>;

const doc = (kind: Kind, name: string, namespace = 'default', extra: Partial<Doc> = {}): Doc => ({
  apiVersion: 'sidestash.io/v1', kind, metadata: { name, namespace, ...(extra.metadata ?? {}) }, spec: extra.spec ?? { n: 1 }, ...(extra.status ? { status: extra.status } : {}),
});
const isCode = (code: string) => (err: unknown): boolean => isSidestashError(err) && err.code === code;
const stale = (err: unknown): boolean => isStaleVersion(err);

export function resourceStoreContract(name: string, open: () => Promise<ResourceStore>): void {
  describe(`resource store contract: ${name}`, () => {
    let store: ResourceStore;
    beforeEach(async () => (store = await open()));
    afterEach(() => store.close());

    it('create assigns uid, creationTimestamp and an opaque string resourceVersion; get returns what was stored', async () => {
      const created = await store.create(doc('Repository', 'r1', 'default', { spec: { a: 'x' }, status: { s: 1 } }));
      assert.equal(typeof created.metadata.uid, 'string');
      assert.ok(created.metadata.uid!.length > 0);
      assert.ok(Number.isFinite(Date.parse(created.metadata.creationTimestamp ?? '')), 'creationTimestamp is a time');
      assert.equal(typeof created.metadata.resourceVersion, 'string');
      const got = await store.get('Repository', 'default', 'r1');
      assert.deepEqual(got, created);
      assert.deepEqual(got?.spec, { a: 'x' });
      assert.deepEqual(got?.status, { s: 1 }, 'the status given at create is stored');
      assert.equal(await store.get('Repository', 'default', 'missing'), undefined);
      assert.equal(await store.get('Repository', 'other', 'r1'), undefined, 'namespaces are separate');
      assert.equal(await store.get('AppBinding', 'default', 'r1'), undefined, 'kinds are separate');
    });

    it('create of a taken name is CONFLICT (not retryable) and changes nothing; two creates at once: exactly one wins', async () => {
      const first = await store.create(doc('Secret', 's', 'default', { spec: { stringData: { k: 'one' } } }));
      await assert.rejects(store.create(doc('Secret', 's', 'default', { spec: { stringData: { k: 'two' } } })), (err) => isCode(ErrorCodes.CONFLICT)(err) && !stale(err));
      assert.deepEqual(await store.get('Secret', 'default', 's'), first);
      const both = await Promise.allSettled([store.create(doc('Repository', 'race', 'default', { spec: { w: 1 } })), store.create(doc('Repository', 'race', 'default', { spec: { w: 2 } }))]);
      assert.equal(both.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one create wins');
      const lost = both.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(isCode(ErrorCodes.CONFLICT)(lost.reason));
      const won = (both.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Doc>).value;
      assert.deepEqual((await store.get('Repository', 'default', 'race'))?.spec, won.spec);
    });

    it('list: by namespace then name, filtered by namespace and label selector; a malformed selector is INVALID_ARGUMENT', async () => {
      for (const [ns, n, labels] of [['b', 'x', { app: 'db' }], ['a', 'z', { app: 'web' }], ['a', 'y', { app: 'db', tier: 'gold' }], ['b', 'w', undefined]] as const) {
        await store.create(doc('AppBinding', n, ns, labels ? { metadata: { name: n, namespace: ns, labels } } : {}));
      }
      await store.create(doc('Repository', 'other-kind', 'a', { metadata: { name: 'other-kind', namespace: 'a', labels: { app: 'db' } } }));
      const names = (rs: Doc[]): string[] => rs.map((r) => `${r.metadata.namespace}/${r.metadata.name}`);
      assert.deepEqual(names(await store.list('AppBinding')), ['a/y', 'a/z', 'b/w', 'b/x']);
      assert.deepEqual(names(await store.list('AppBinding', { namespace: 'b' })), ['b/w', 'b/x']);
      assert.deepEqual(names(await store.list('AppBinding', { labelSelector: 'app=db' })), ['a/y', 'b/x']);
      assert.deepEqual(names(await store.list('AppBinding', { namespace: 'a', labelSelector: 'app=db,tier in (gold)' })), ['a/y']);
      assert.deepEqual(names(await store.list('AppBinding', { labelSelector: '!app' })), ['b/w']);
      assert.deepEqual(await store.list('Secret'), []);
      await assert.rejects(store.list('AppBinding', { labelSelector: 'app==(' }), isCode(ErrorCodes.INVALID_ARGUMENT));
    });

    it('list by field: status.phase in a set, spec.invoker.name equal; with namespace and labels; as matchesListFields says', async () => {
      const rows: [string, string, string, string | undefined][] = [['a', 's1', 'c1', 'Pending'], ['a', 's2', 'c1', 'Running'], ['a', 's3', 'c1', 'Succeeded'], ['a', 's4', 'c2', 'Running'], ['b', 's5', 'c1', 'Running'], ['a', 's6', 'c1', undefined]];
      for (const [ns, n, invoker, phase] of rows) {
        await store.create(doc('BackupSession', n, ns, { metadata: { name: n, namespace: ns, labels: { 'sidestash.io/invoker': invoker } }, spec: { invoker: { kind: 'BackupConfiguration', name: invoker } }, ...(phase ? { status: { phase } } : {}) }));
      }
      await store.create(doc('RestoreSession', 'r1', 'a', { status: { phase: 'Running' } }));
      const names = (rs: Doc[]): string[] => rs.map((r) => `${r.metadata.namespace}/${r.metadata.name}`);
      assert.deepEqual(names(await store.list('BackupSession', { phases: ['Running'] })), ['a/s2', 'a/s4', 'b/s5']);
      assert.deepEqual(names(await store.list('BackupSession', { phases: ['Pending', 'Running'], namespace: 'a' })), ['a/s1', 'a/s2', 'a/s4']);
      assert.deepEqual(names(await store.list('BackupSession', { invoker: 'c1', namespace: 'a' })), ['a/s1', 'a/s2', 'a/s3', 'a/s6']);
      assert.deepEqual(names(await store.list('BackupSession', { invoker: 'c1', phases: ['Pending', 'Running'] })), ['a/s1', 'a/s2', 'b/s5']);
      assert.deepEqual(names(await store.list('BackupSession', { phases: [] })), [], 'no phase allowed: none');
      assert.deepEqual(names(await store.list('BackupSession', { invoker: 'c1', phases: ['Running'], labelSelector: 'sidestash.io/invoker=c1' })), ['a/s2', 'b/s5']);
      assert.deepEqual(names(await store.list('BackupSession', { invoker: "c1' OR 1=1 --" })), [], 'a value, never SQL');
      assert.deepEqual(names(await store.list('RestoreSession', { phases: ['Running'] })), ['a/r1']);
      assert.deepEqual(names(await store.list('RestoreSession', { invoker: 'c1' })), [], 'a resource without spec.invoker matches no invoker');
      const all = (await store.list('BackupSession')).filter((r) => matchesListFields(r, { invoker: 'c1', phases: ['Running', 'Succeeded'] }));
      assert.deepEqual(names(await store.list('BackupSession', { invoker: 'c1', phases: ['Running', 'Succeeded'] })), names(all));
    });

    it('list by field: status.readDataCheckPending.session equal; with namespace; as matchesListFields says', async () => {
      const rows: [string, string, Record<string, unknown> | undefined][] = [['a', 'r1', { readDataCheckPending: { session: 's1', since: 't' } }], ['a', 'r2', { readDataCheckPending: { session: 's2', since: 't' } }], ['a', 'r3', { integrity: { ok: true } }], ['a', 'r4', undefined], ['b', 'r5', { readDataCheckPending: { session: 's1', since: 't' } }], ['a', 'r6', { readDataCheckPending: 's1' }]];
      for (const [ns, n, status] of rows) await store.create(doc('Repository', n, ns, { metadata: { name: n, namespace: ns }, spec: { backend: {} }, ...(status ? { status } : {}) }));
      const names = (rs: Doc[]): string[] => rs.map((r) => `${r.metadata.namespace}/${r.metadata.name}`);
      assert.deepEqual(names(await store.list('Repository', { readDataCheckPendingSession: 's1' })), ['a/r1', 'b/r5']);
      assert.deepEqual(names(await store.list('Repository', { readDataCheckPendingSession: 's1', namespace: 'a' })), ['a/r1']);
      assert.deepEqual(names(await store.list('Repository', { readDataCheckPendingSession: 'none' })), []);
      assert.deepEqual(names(await store.list('Repository', { readDataCheckPendingSession: "s1' OR 1=1 --" })), [], 'a value, never SQL');
      const all = (await store.list('Repository')).filter((r) => matchesListFields(r, { readDataCheckPendingSession: 's2' }));
      assert.deepEqual(names(await store.list('Repository', { readDataCheckPendingSession: 's2' })), names(all));
      assert.deepEqual(names(all), ['a/r2']);
    });

    it('update writes metadata and spec, keeps status, uid and creationTimestamp; a stale version is CONFLICT (retryable) and writes nothing', async () => {
      const created = await store.create(doc('BackupConfiguration', 'c', 'default', { spec: { v: 1 }, status: { kept: true } }));
      const updated = await store.update(
        { ...created, metadata: { ...created.metadata, labels: { l: '1' }, uid: 'forged', creationTimestamp: '2000-01-01T00:00:00Z' }, spec: { v: 2 }, status: { kept: false, injected: 1 } },
        { ifVersion: created.metadata.resourceVersion! },
      );
      assert.deepEqual(updated.spec, { v: 2 });
      assert.deepEqual(updated.metadata.labels, { l: '1' });
      assert.deepEqual(updated.status, { kept: true }, 'update never writes the status');
      assert.equal(updated.metadata.uid, created.metadata.uid);
      assert.equal(updated.metadata.creationTimestamp, created.metadata.creationTimestamp);
      assert.notEqual(updated.metadata.resourceVersion, created.metadata.resourceVersion, 'every write gets a new version');
      assert.deepEqual(await store.get('BackupConfiguration', 'default', 'c'), updated);
      await assert.rejects(store.update({ ...created, spec: { v: 3 } }, { ifVersion: created.metadata.resourceVersion! }), (err) => isCode(ErrorCodes.CONFLICT)(err) && stale(err));
      assert.deepEqual(await store.get('BackupConfiguration', 'default', 'c'), updated, 'the stale write changed nothing');
      await assert.rejects(store.update(doc('BackupConfiguration', 'gone'), { ifVersion: updated.metadata.resourceVersion! }), isCode(ErrorCodes.NOT_FOUND));
      assert.equal(await store.get('BackupConfiguration', 'default', 'gone'), undefined, 'update does not create');
    });

    it('updateStatus writes the status only: spec and labels stay as stored; stale is CONFLICT, gone is NOT_FOUND', async () => {
      const created = await store.create(doc('BackupSession', 's', 'default', { metadata: { name: 's', namespace: 'default', labels: { a: 'b' } }, spec: { invoker: 'x' }, status: { phase: 'Pending' } }));
      const running = await store.updateStatus({ ...created, metadata: { ...created.metadata, labels: { a: 'changed' } }, spec: { invoker: 'forged' }, status: { phase: 'Running' } }, { ifVersion: created.metadata.resourceVersion! });
      assert.deepEqual(running.status, { phase: 'Running' });
      assert.deepEqual(running.spec, { invoker: 'x' }, 'updateStatus never writes the spec');
      assert.deepEqual(running.metadata.labels, { a: 'b' });
      assert.equal(running.metadata.uid, created.metadata.uid);
      assert.deepEqual(await store.get('BackupSession', 'default', 's'), running);
      await assert.rejects(store.updateStatus({ ...created, status: { phase: 'Failed' } }, { ifVersion: created.metadata.resourceVersion! }), (err) => isCode(ErrorCodes.CONFLICT)(err) && stale(err));
      assert.deepEqual((await store.get('BackupSession', 'default', 's'))?.status, { phase: 'Running' });
      await assert.rejects(store.updateStatus(doc('BackupSession', 'gone'), { ifVersion: running.metadata.resourceVersion! }), isCode(ErrorCodes.NOT_FOUND));
    });

    it('a relaxed status write is stored, versioned and checked as any other', async () => {
      const created = await store.create(doc('BackupSession', 'r', 'default', { metadata: { name: 'r', namespace: 'default' }, spec: { invoker: 'x' }, status: { phase: 'Running' } }));
      const renewed = await store.updateStatus({ ...created, status: { phase: 'Running', leaseExpiresAt: 'later' } }, { ifVersion: created.metadata.resourceVersion!, durability: 'relaxed' });
      assert.notEqual(renewed.metadata.resourceVersion, created.metadata.resourceVersion);
      assert.deepEqual(await store.get('BackupSession', 'default', 'r'), renewed);
      await assert.rejects(store.updateStatus({ ...created, status: { phase: 'Failed' } }, { ifVersion: created.metadata.resourceVersion!, durability: 'relaxed' }), (err) => isCode(ErrorCodes.CONFLICT)(err) && stale(err));
      const done = await store.updateStatus({ ...renewed, status: { phase: 'Succeeded' } }, { ifVersion: renewed.metadata.resourceVersion! });
      assert.deepEqual((await store.get('BackupSession', 'default', 'r'))?.status, done.status);
    });

    it('a relaxed delete deletes, is checked and heard as any other', async () => {
      const created = await store.create(doc('BackupSession', 'rd', 'default', { metadata: { name: 'rd', namespace: 'default' }, spec: { invoker: 'x' }, status: { phase: 'Succeeded' } }));
      const updated = await store.updateStatus({ ...created, status: { phase: 'Failed' } }, { ifVersion: created.metadata.resourceVersion! });
      await assert.rejects(store.delete('BackupSession', 'default', 'rd', { ifVersion: created.metadata.resourceVersion!, durability: 'relaxed' }), (err) => isCode(ErrorCodes.CONFLICT)(err) && stale(err));
      assert.deepEqual(await store.get('BackupSession', 'default', 'rd'), updated, 'a stale relaxed delete keeps the object');
      assert.equal(await store.delete('BackupSession', 'default', 'rd', { ifVersion: updated.metadata.resourceVersion!, durability: 'relaxed' }), true);
      assert.equal(await store.get('BackupSession', 'default', 'rd'), undefined);
      assert.equal(await store.delete('BackupSession', 'default', 'rd', { durability: 'relaxed' }), false, 'nothing left to delete');
      const durable = await store.create(doc('BackupSession', 'rd', 'default', { metadata: { name: 'rd', namespace: 'default' }, spec: { invoker: 'x' }, status: { phase: 'Pending' } }));
      assert.equal(await store.delete('BackupSession', 'default', 'rd', { ifVersion: durable.metadata.resourceVersion! }), true, 'a durable write after a relaxed one');
    });

    it('delete: true once, false when absent; a stale ifVersion is CONFLICT and keeps the object', async () => {
      const created = await store.create(doc('Repository', 'd'));
      const updated = await store.update({ ...created, spec: { n: 2 } }, { ifVersion: created.metadata.resourceVersion! });
      await assert.rejects(store.delete('Repository', 'default', 'd', { ifVersion: created.metadata.resourceVersion! }), (err) => isCode(ErrorCodes.CONFLICT)(err) && stale(err));
      assert.deepEqual(await store.get('Repository', 'default', 'd'), updated);
      assert.equal(await store.delete('Repository', 'default', 'd', { ifVersion: updated.metadata.resourceVersion! }), true);
      assert.equal(await store.get('Repository', 'default', 'd'), undefined);
      assert.equal(await store.delete('Repository', 'default', 'd'), false);
      await store.create(doc('Repository', 'plain'));
      assert.equal(await store.delete('Repository', 'default', 'plain'), true, 'without a precondition');
      const again = await store.create(doc('Repository', 'd'));
      assert.notEqual(again.metadata.uid, created.metadata.uid, 'a name created again is another object');
    });

    it('watch hears every stored write in order (ADDED, MODIFIED, DELETED), none of a refused one, and nothing after it stops', async () => {
      const events: ResourceEvent[] = [];
      const stop = store.watch((e) => events.push(e));
      const a = await store.create(doc('AppBinding', 'w', 'default', { spec: { v: 1 } }));
      const b = await store.update({ ...a, spec: { v: 2 } }, { ifVersion: a.metadata.resourceVersion! });
      const c = await store.updateStatus({ ...b, status: { ok: true } }, { ifVersion: b.metadata.resourceVersion! });
      await assert.rejects(store.update({ ...a, spec: { v: 9 } }, { ifVersion: a.metadata.resourceVersion! }));
      await assert.rejects(store.create(doc('AppBinding', 'w')));
      await store.delete('AppBinding', 'default', 'w');
      // A Kubernetes watch delivers asynchronously: wait until the four arrived (or the test times out).
      while (events.length < 4) await new Promise((r) => setTimeout(r, 10));
      stop();
      await store.create(doc('AppBinding', 'after-stop'));
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(events.map((e) => [e.type, e.resource.metadata.name, e.resource.metadata.resourceVersion]), [
        ['ADDED', 'w', a.metadata.resourceVersion], ['MODIFIED', 'w', b.metadata.resourceVersion], ['MODIFIED', 'w', c.metadata.resourceVersion], ['DELETED', 'w', c.metadata.resourceVersion],
      ]);
      assert.deepEqual(events[2]!.resource.status, { ok: true });
    });

    it('compare-and-swap: of two writers that read the same version exactly one wins; retryOnConflict makes every increment count', async () => {
      const created = await store.create(doc('BackupSession', 'claim', 'default', { status: { phase: 'Pending' } }));
      const claim = (agent: string) => store.updateStatus({ ...created, status: { phase: 'Running', agent } }, { ifVersion: created.metadata.resourceVersion! });
      const results = await Promise.allSettled([claim('a'), claim('b')]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one claim wins');
      assert.ok(stale((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason));
      const winner = (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Doc>).value;
      assert.deepEqual((await store.get('BackupSession', 'default', 'claim'))?.status, winner.status);

      await store.create(doc('Repository', 'counter', 'default', { status: { count: 0 } }));
      const increment = () => retryOnConflict(async () => {
        const cur = (await store.get('Repository', 'default', 'counter'))!;
        await new Promise((r) => setImmediate(r)); // let the other writers read the same version
        return store.updateStatus({ ...cur, status: { count: (cur.status!.count as number) + 1 } }, { ifVersion: cur.metadata.resourceVersion! });
      }, { attempts: 20 });
      await Promise.all(Array.from({ length: 5 }, increment));
      assert.deepEqual((await store.get('Repository', 'default', 'counter'))?.status, { count: 5 });
    });

    it('applyBatch stores every write; a failing write stores none when atomic, the ones before it otherwise', async () => {
      const existing = await store.create(doc('Repository', 'b1', 'default', { spec: { v: 1 }, status: { s: 1 } }));
      const stored = await store.applyBatch([
        { op: 'update', resource: { ...existing, spec: { v: 2 } }, ifVersion: existing.metadata.resourceVersion! },
        { op: 'create', resource: doc('AppBinding', 'b2') },
      ]);
      assert.deepEqual(stored.map((r) => [r.kind, r.metadata.name]), [['Repository', 'b1'], ['AppBinding', 'b2']]);
      assert.deepEqual((await store.get('Repository', 'default', 'b1'))?.spec, { v: 2 });
      assert.deepEqual((await store.get('Repository', 'default', 'b1'))?.status, { s: 1 }, 'a batch update keeps the status');
      const events: ResourceEvent[] = [];
      store.watch((e) => events.push(e));
      await assert.rejects(
        store.applyBatch([{ op: 'create', resource: doc('AppBinding', 'b3') }, { op: 'update', resource: { ...existing, spec: { v: 3 } }, ifVersion: existing.metadata.resourceVersion! }]),
        (err) => isCode(ErrorCodes.CONFLICT)(err) && stale(err),
      );
      assert.deepEqual((await store.get('Repository', 'default', 'b1'))?.spec, { v: 2 }, 'the stale update is not written');
      if (store.atomicBatches) {
        assert.equal(await store.get('AppBinding', 'default', 'b3'), undefined, 'an atomic batch stores none of a failed batch');
        await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual(events, [], 'and nobody hears of it');
      } else {
        assert.ok(await store.get('AppBinding', 'default', 'b3'), 'a batch in order keeps the writes before the failure');
      }
    });

    it('creation order: creationTimestamp, then namespace and name; resourceVersion plays no part', async () => {
      const at = (name: string, ts: string) => store.create(doc('RestoreSession', name, 'default', { metadata: { name, namespace: 'default', creationTimestamp: ts } }));
      await at('late', '2026-03-01T10:00:02.000Z');
      await at('b-early', '2026-03-01T10:00:00.000Z');
      await at('a-early', '2026-03-01T10:00:00.000Z');
      const all = await store.list('RestoreSession');
      // A store may round creation times (Kubernetes: to the second); order must not depend on the write order.
      assert.deepEqual([...all].sort(byCreation).map((r) => r.metadata.name), ['a-early', 'b-early', 'late']);
      const first = all.find((r) => r.metadata.name === 'late')!;
      await store.updateStatus({ ...first, status: { phase: 'Running' } }, { ifVersion: first.metadata.resourceVersion! });
      assert.deepEqual((await store.list('RestoreSession')).sort(byCreation).map((r) => r.metadata.name), ['a-early', 'b-early', 'late'], 'a later write does not move it');
    });
  });
}
