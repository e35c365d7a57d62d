// apply over a named resourceVersion: the Kubernetes precondition that keeps read-modify-write
// (sidestash pause/resume, an edited `get -o yaml`) from losing a change made meanwhile.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isSidestashError } from '../../common/errors.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { ResourceService } from './resource-service.ts';

const secret = (value: string, resourceVersion?: string) => ({
  apiVersion: 'sidestash.io/v1',
  kind: 'Secret',
  metadata: { name: 's', namespace: 'default', ...(resourceVersion === undefined ? {} : { resourceVersion }) },
  spec: { stringData: { k: value } },
});

describe('apply with metadata.resourceVersion', () => {
  const store = new SqliteStore(':memory:', { encryptionKey: { text: Buffer.alloc(32, 7).toString('base64'), setting: 'a test key' } });
  after(() => store.close());
  const service = new ResourceService(store);
  const stored = async () => (await store.get('Secret', 'default', 's'))!;

  it('is refused for an object that does not exist (CONFLICT, not retryable; nothing is created)', async () => {
    await assert.rejects(service.apply(secret('a', '7')), (e) => isSidestashError(e, 'SIDESTASH_CONFLICT') && (e as { retryable?: boolean }).retryable === false);
    assert.equal(await store.get('Secret', 'default', 's'), undefined);
  });

  it('writes over the version named, and refuses (CONFLICT, retryable) a version that changed since', async () => {
    await service.apply(secret('a'));
    const v1 = (await stored()).metadata.resourceVersion!;
    await service.apply(secret('b', v1));
    const v2 = (await stored()).metadata.resourceVersion!;
    assert.notEqual(v2, v1);
    await assert.rejects(service.apply(secret('c', v1)), (e) => isSidestashError(e, 'SIDESTASH_CONFLICT') && (e as { retryable?: boolean }).retryable === true);
    assert.deepEqual((await stored()).spec, { stringData: { k: 'b' } }, 'the stale write changed nothing');
    assert.equal((await stored()).metadata.resourceVersion, v2);
  });

  it('a resourceVersion that is not a short string or integer is a validation error', async () => {
    for (const bad of [{ a: 1 }, [1], 'x y', 'x'.repeat(65), true]) {
      await assert.rejects(service.apply({ ...secret('z'), metadata: { name: 's', namespace: 'default', resourceVersion: bad } }), (e) => isSidestashError(e, 'SIDESTASH_VALIDATION_FAILED'), JSON.stringify(bad));
    }
    assert.deepEqual((await stored()).spec, { stringData: { k: 'b' } });
  });

  it('without a version, apply writes over whatever is stored', async () => {
    await service.apply(secret('d'));
    assert.deepEqual((await stored()).spec, { stringData: { k: 'd' } });
  });
});

describe('apply and delete after the write', () => {
  it('a failed reference refresh is a warning, and the change listeners run all the same (a retry would find the document unchanged)', async () => {
    const store = new SqliteStore(':memory:', { encryptionKey: { text: Buffer.alloc(32, 7).toString('base64'), setting: 'a test key' } });
    const heard: string[] = [];
    const service = new ResourceService(store, (r, change) => {
      heard.push(`${change} ${r.kind}/${r.metadata.name}`);
    });
    let failLists = false;
    const list = store.list.bind(store);
    store.list = ((kind, o) => (failLists ? Promise.reject(new Error('store unreachable')) : list(kind, o))) as typeof store.list;
    const applyBatch = store.applyBatch.bind(store);
    store.applyBatch = (async (w) => {
      const out = await applyBatch(w);
      failLists = true;
      return out;
    }) as typeof store.applyBatch;
    const [r] = await service.applyAll([secret('a')]);
    assert.match(r!.warnings.join(), /could not be brought up to date: store unreachable/);
    assert.deepEqual(heard, ['applied Secret/s']);
    failLists = false;
    const del = await service.delete('Secret', 'default', 's').catch((e: unknown) => e);
    assert.ok(!(del instanceof Error), String(del));
    assert.deepEqual(heard, ['applied Secret/s', 'deleted Secret/s']);
    store.close();
  });
});
