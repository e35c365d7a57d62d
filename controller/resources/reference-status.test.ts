// status.missingReferences against a real store: recomputed per namespace, kept off finished
// sessions, and brought up to date when the controller starts (a store from before it existed).
import assert from 'node:assert/strict';
import { upsert } from '../store/upsert.ts';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../common/log.ts';
import { tempDir } from '../../test/helpers/tmp.ts';
import { parseControllerConfig } from '../config.ts';
import { Controller } from '../controller.ts';
import { Store } from '../store/store.ts';
import { refreshMissingReferences } from './reference-status.ts';
import type { Resource } from './types.ts';

const res = (kind: Resource['kind'], name: string, spec: Record<string, unknown>, extra: Partial<Resource> = {}, namespace = 'default'): Resource => ({ apiVersion: 'sidestash.io/v1', kind, metadata: { name, namespace }, spec, ...extra });
const cfg = (name: string, namespace = 'default') => res('BackupConfiguration', name, { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } }, {}, namespace);
const missingOf = async (store: Pick<Store, 'get'>, kind: Resource['kind'], name: string, namespace = 'default'): Promise<unknown> => ((await store.get(kind, namespace, name))?.status as { missingReferences?: unknown } | undefined)?.missingReferences;

describe('refreshMissingReferences', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir('sidestash-refs-');
  });
  after(() => dir.cleanup());

  it('updates the namespace asked for, keeps other status fields, and leaves finished restores alone', async () => {
    const store = new Store(join(dir.path, 'a.db'));
    try {
      (await upsert(store, { ...cfg('nightly'), status: { lastFinishedPhase: 'Succeeded' } }));
      (await upsert(store, cfg('nightly', 'other')));
      (await upsert(store, res('RestoreSession', 'done', { repository: { name: 'repo' }, target: { ref: { name: 'db' } } }, { status: { phase: 'Succeeded' } })));
      assert.equal((await refreshMissingReferences(store, 'default')), 1);
      assert.deepEqual((await store.get('BackupConfiguration', 'default', 'nightly'))!.status, {
        lastFinishedPhase: 'Succeeded',
        missingReferences: [{ kind: 'Repository', name: 'repo', field: 'spec.repository.name' }, { kind: 'AppBinding', name: 'db', field: 'spec.target.ref.name' }],
      });
      assert.equal(await missingOf(store, 'BackupConfiguration', 'nightly', 'other'), undefined, 'another namespace is not touched');
      assert.equal(await missingOf(store, 'RestoreSession', 'done'), undefined, 'a finished session keeps what it had');
      assert.equal((await refreshMissingReferences(store, 'default')), 0, 'nothing changed: nothing written');
      (await upsert(store, res('Repository', 'repo', { backend: { local: { path: '/srv/r' }, storageSecretName: 's' } })));
      (await upsert(store, res('Secret', 's', { stringData: { RESTIC_PASSWORD: 'x' } })));
      (await upsert(store, res('AppBinding', 'db', { clientConfig: { socket: '/s' }, secret: { name: 's' } })));
      (await refreshMissingReferences(store, 'default'));
      assert.deepEqual((await store.get('BackupConfiguration', 'default', 'nightly'))!.status, { lastFinishedPhase: 'Succeeded' }, 'the field goes once all is there');
    } finally {
      store.close();
    }
  });

  it('the controller brings every namespace up to date when it starts', async () => {
    const db = join(dir.path, 'c.db');
    const store = new Store(db, {});
    (await upsert(store, cfg('older', 'shop')));
    store.close();
    const config = parseControllerConfig({ SIDESTASH_LISTEN: '127.0.0.1:0', SIDESTASH_DB: db, SIDESTASH_ADMIN_TOKEN: 'admin-token-0123456789abcdef', SIDESTASH_INSECURE_HTTP: 'true' });
    const c = new Controller(config, createLogger({}, { level: 'error' }));
    await c.start();
    try {
      assert.deepEqual(await missingOf(c.store, 'BackupConfiguration', 'older', 'shop'), [{ kind: 'Repository', name: 'repo', field: 'spec.repository.name' }, { kind: 'AppBinding', name: 'db', field: 'spec.target.ref.name' }]);
    } finally {
      await c.stop();
    }
  });
});
