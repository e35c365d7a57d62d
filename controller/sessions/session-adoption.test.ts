// A session created without a status (kubectl apply in Kubernetes mode) is adopted as Pending;
// one with a phase is left alone; a write that loses to another is not an error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SqliteStore } from '../store/sqlite-store.ts';
import { adoptSession, adoptSessions, needsAdoption } from './session-adoption.ts';

const session = (kind: 'BackupSession' | 'RestoreSession', name: string, status?: unknown) => ({
  apiVersion: 'sidestash.io/v1', kind, metadata: { name, namespace: 'shop' },
  spec: kind === 'BackupSession' ? { invoker: { kind: 'BackupConfiguration', name: 'nightly' } } : { repository: { name: 'r' }, target: { ref: { name: 'db' } } },
  ...(status === undefined ? {} : { status }),
});

describe('session adoption', () => {
  it('needsAdoption: sessions without a phase only', () => {
    assert.equal(needsAdoption({ kind: 'BackupSession' }), true);
    assert.equal(needsAdoption({ kind: 'RestoreSession', status: {} }), true);
    assert.equal(needsAdoption({ kind: 'RestoreSession', status: { phase: '' } }), true);
    assert.equal(needsAdoption({ kind: 'BackupSession', status: { phase: 'Running' } }), false);
    assert.equal(needsAdoption({ kind: 'BackupConfiguration' }), false);
  });
  it('adopts new sessions as Pending and leaves the others', async () => {
    const store = new SqliteStore(':memory:');
    try {
      await store.create(session('BackupSession', 'instant') as never);
      await store.create(session('RestoreSession', 'restore', {}) as never);
      await store.create(session('BackupSession', 'running', { phase: 'Running', agent: 'shop/a' }) as never);
      assert.equal(await adoptSessions(store), 2);
      assert.deepEqual((await store.get('BackupSession', 'shop', 'instant'))?.status, { phase: 'Pending' });
      assert.deepEqual((await store.get('RestoreSession', 'shop', 'restore'))?.status, { phase: 'Pending' });
      assert.deepEqual((await store.get('BackupSession', 'shop', 'running'))?.status, { phase: 'Running', agent: 'shop/a' });
      assert.equal(await adoptSessions(store), 0, 'once');
    } finally {
      store.close();
    }
  });
  it('a stale read loses quietly', async () => {
    const store = new SqliteStore(':memory:');
    try {
      const stale = await store.create(session('BackupSession', 'instant') as never);
      await store.updateStatus({ ...stale, status: { phase: 'Cancelled' } } as never, { ifVersion: (stale as { metadata: { resourceVersion: string } }).metadata.resourceVersion });
      assert.equal(await adoptSession(store, stale as never), false);
      assert.deepEqual((await store.get('BackupSession', 'shop', 'instant'))?.status, { phase: 'Cancelled' });
    } finally {
      store.close();
    }
  });
});
