// A session created without a status (kubectl apply in Kubernetes mode) is adopted as Pending
// once it has settled; one whose creator writes its status meanwhile (the controller's own
// two-step create on the API server) is left to it; one with a phase is left alone; a write
// that loses to another is not an error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SqliteStore } from '../store/sqlite-store.ts';
import { AdoptionQueue, adoptSession, needsAdoption } from './session-adoption.ts';

const session = (kind: 'BackupSession' | 'RestoreSession', name: string, status?: unknown) => ({
  apiVersion: 'sidestash.io/v1', kind, metadata: { name, namespace: 'shop' },
  spec: kind === 'BackupSession' ? { invoker: { kind: 'BackupConfiguration', name: 'nightly' } } : { repository: { name: 'r' }, target: { ref: { name: 'db' } } },
  ...(status === undefined ? {} : { status }),
});

/** A sleep the test ends by hand: the settle time passes when the test says so. */
function manualSleep(): { sleep: (ms: number, signal: AbortSignal) => Promise<void>; pass: () => void; asked: number[] } {
  const waiting: (() => void)[] = [];
  const asked: number[] = [];
  return {
    asked,
    sleep: (ms) => new Promise<void>((resolve) => {
      asked.push(ms);
      waiting.push(resolve);
    }),
    pass: () => {
      for (const w of waiting.splice(0)) w();
    },
  };
}

describe('session adoption', () => {
  it('needsAdoption: sessions without a phase only', () => {
    assert.equal(needsAdoption({ kind: 'BackupSession' }), true);
    assert.equal(needsAdoption({ kind: 'RestoreSession', status: {} }), true);
    assert.equal(needsAdoption({ kind: 'RestoreSession', status: { phase: '' } }), true);
    assert.equal(needsAdoption({ kind: 'BackupSession', status: { phase: 'Running' } }), false);
    assert.equal(needsAdoption({ kind: 'BackupConfiguration' }), false);
  });

  it('adopts sessions that stayed without a status; leaves one its creator finished meanwhile, and the others', async () => {
    const store = new SqliteStore(':memory:');
    const clock = manualSleep();
    try {
      await store.create(session('BackupSession', 'instant') as never);
      await store.create(session('RestoreSession', 'restore', {}) as never);
      const creating = await store.create(session('BackupSession', 'creating') as never) as any;
      await store.create(session('BackupSession', 'running', { phase: 'Running', agent: 'shop/a' }) as never);
      const q = new AdoptionQueue(store, new AbortController().signal, { settleMs: 1234, sleep: clock.sleep });
      const all = q.considerAll();
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(clock.asked, [1234, 1234, 1234], 'three wait to settle; the Running one does not');
      // The creator's second write lands while adoption waits.
      await store.updateStatus({ ...creating, status: { phase: 'Pending', reason: 'mine' } }, { ifVersion: creating.metadata.resourceVersion });
      clock.pass();
      assert.equal(await all, 2);
      assert.deepEqual((await store.get('BackupSession', 'shop', 'instant'))?.status, { phase: 'Pending' });
      assert.deepEqual((await store.get('RestoreSession', 'shop', 'restore'))?.status, { phase: 'Pending' });
      assert.deepEqual((await store.get('BackupSession', 'shop', 'creating'))?.status, { phase: 'Pending', reason: 'mine' }, 'the creator\'s write stands');
      assert.deepEqual((await store.get('BackupSession', 'shop', 'running'))?.status, { phase: 'Running', agent: 'shop/a' });
    } finally {
      store.close();
    }
  });

  it('once per session at a time, and nothing after the leader steps down', async () => {
    const store = new SqliteStore(':memory:');
    const clock = manualSleep();
    const ac = new AbortController();
    try {
      const s = await store.create(session('BackupSession', 'instant') as never);
      const q = new AdoptionQueue(store, ac.signal, { sleep: clock.sleep });
      const first = q.consider(s as never);
      assert.equal(q.consider(s as never), first, 'the same wait');
      ac.abort();
      clock.pass();
      assert.equal(await first, false);
      assert.equal((await store.get('BackupSession', 'shop', 'instant'))?.status, undefined);
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
