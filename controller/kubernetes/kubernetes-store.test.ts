// What the Kubernetes store decides before it talks to a server (the rest is
// test/kube-store.test.ts, on a real kube-apiserver).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { KubeClient } from './kube-client.ts';
import { KubernetesStore } from './kubernetes-store.ts';

const client = new KubeClient({ server: 'https://127.0.0.1:1', namespace: 'default', insecureSkipTlsVerify: false, credentials: { kind: 'token', token: 't' }, source: 'test' });

test('a namespace list with a name that is not a namespace is INVALID_CONFIG, naming it', () => {
  assert.throws(() => new KubernetesStore({ client, namespaces: ['shop', 'Bad_NS', '../x'] }), (e) => {
    assert.ok(isSidestashError(e, ErrorCodes.INVALID_CONFIG));
    assert.match(e.message, /"Bad_NS", "\.\.\/x"/);
    return true;
  });
});

test('before start() a read is refused (KUBE_UNAVAILABLE), not answered from an empty cache; a namespace it does not serve reads as empty', async () => {
  const store = new KubernetesStore({ client, namespaces: ['shop'] });
  await assert.rejects(store.get('Repository', 'shop', 'r'), (e) => isSidestashError(e, ErrorCodes.KUBE_UNAVAILABLE));
  await assert.rejects(store.list('BackupSession'), (e) => isSidestashError(e, ErrorCodes.KUBE_UNAVAILABLE));
  assert.equal(await store.get('Repository', 'other', 'r'), undefined);
  assert.deepEqual(await store.list('Repository', { namespace: 'other' }), []);
  await assert.rejects(store.create({ apiVersion: 'sidestash.io/v1', kind: 'Repository', metadata: { name: 'r', namespace: 'other' }, spec: {} }), (e) => isSidestashError(e, ErrorCodes.FORBIDDEN));
  await assert.rejects(store.list('Repository', { labelSelector: 'a==(' }), (e) => isSidestashError(e, ErrorCodes.INVALID_ARGUMENT));
  store.close();
});
