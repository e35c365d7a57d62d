// What the Kubernetes store decides before it talks to a server (the rest is
// test/kube-store.test.ts, on a real kube-apiserver).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { KubeClient } from './kube-client.ts';
import { KubernetesStore } from './kubernetes-store.ts';
import { Secrets } from './resource-type.ts';
import type { KubeObject } from './resource-type.ts';
import { missingReferencesIn } from '../resources/reference-status.ts';
import { CREATED_AT_ANNOTATION, CRD_TYPES } from './store-mapping.ts';
import { fakeKubeClient } from '../../test/helpers/fake-kube-client.ts';
import { waitFor } from '../../test/helpers/scenario.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child() { return quiet; } };

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

test('a write the watch does not deliver in time makes the store list that kind again, so that reads catch up', async () => {
  const fake = fakeKubeClient();
  const repo = CRD_TYPES.Repository;
  fake.put(repo, { metadata: { namespace: 'shop', name: 'r', annotations: { [CREATED_AT_ANNOTATION]: '2026-01-01T00:00:00.000Z' } }, spec: { backend: { local: { path: '/x' } } } } as KubeObject);
  const store = new KubernetesStore({ client: fake.client, namespaces: ['shop'], writeVisibleTimeoutMs: 50, log: quiet });
  await store.start();
  const before = (await store.get('Repository', 'shop', 'r'))!;
  assert.equal(fake.lists.repositories, 1);
  // The watch stays silent (a half-open connection): the write is on the server, not in the cache.
  const written = await store.updateStatus({ ...before, status: { phase: 'Ready' } }, { ifVersion: before.metadata.resourceVersion! });
  await waitFor('the store to list again', 10_000, async () => ((await store.get('Repository', 'shop', 'r'))?.metadata.resourceVersion === written.metadata.resourceVersion ? true : undefined));
  assert.deepEqual((await store.get('Repository', 'shop', 'r'))?.status, { phase: 'Ready' });
  assert.equal(fake.lists.repositories, 2);
  assert.equal(fake.lists.backupsessions, 1, 'only the kind written is listed again');
  assert.equal(store.informerStats().relists, 1);
  store.close();
});

test('whether a referenced Secret exists comes from the metadata-only cache: no Secret value is read', async () => {
  const fake = fakeKubeClient();
  fake.put(Secrets, { metadata: { namespace: 'shop', name: 'creds' }, data: { RESTIC_PASSWORD: 'c2VjcmV0' } } as KubeObject);
  const store = new KubernetesStore({ client: fake.client, namespaces: ['shop'], log: quiet });
  await store.start();
  const repo = (secret: string) => ({ apiVersion: 'sidestash.io/v1', kind: 'Repository' as const, metadata: { name: 'r', namespace: 'shop' }, spec: { backend: { storageSecretName: secret, local: { path: '/x' } } } });
  assert.deepEqual(await missingReferencesIn(store, repo('creds')), []);
  assert.deepEqual((await missingReferencesIn(store, repo('gone'))).map((m) => `${m.kind} ${m.name}`), ['Secret gone']);
  assert.equal(await store.exists('Secret', 'shop', 'creds'), true);
  assert.equal(await store.exists('Secret', 'other', 'creds'), false, 'a namespace it does not serve');
  assert.equal(fake.secretValueReads, 0);
  store.close();
});

test('a session whose status write loses to the leader\'s adoption is still created with the creator\'s status; anything more than the adoption undoes the create', async () => {
  const fake = fakeKubeClient();
  const sessions = CRD_TYPES.BackupSession;
  const replaceStatus = fake.client.replaceStatus.bind(fake.client);
  let adoptWith: Record<string, unknown> | undefined;
  fake.client.replaceStatus = (async (type, object, signal) => {
    if (adoptWith) {
      // The leader's write lands between the creator's two writes.
      const current = await fake.client.get(type, object.metadata.namespace, object.metadata.name!);
      fake.put(type, { ...current, status: adoptWith } as KubeObject);
      adoptWith = undefined;
    }
    return replaceStatus(type, object, signal);
  }) as typeof fake.client.replaceStatus;
  const store = new KubernetesStore({ client: fake.client, namespaces: ['shop'], writeVisibleTimeoutMs: 50, log: quiet });
  await store.start();
  const session = (name: string) => ({ apiVersion: 'sidestash.io/v1', kind: 'BackupSession' as const, metadata: { name, namespace: 'shop' }, spec: { invoker: { kind: 'BackupConfiguration', name: 'nightly' } }, status: { phase: 'Pending', trigger: 'schedule' } });
  adoptWith = { phase: 'Pending' };
  const created = await store.create(session('nightly-1'));
  assert.deepEqual(created.status, { phase: 'Pending', trigger: 'schedule' });
  assert.deepEqual((await fake.client.get<KubeObject & { status?: unknown }>(sessions, 'shop', 'nightly-1')).status, { phase: 'Pending', trigger: 'schedule' });
  adoptWith = { phase: 'Running', agent: 'shop/db-0' };
  await assert.rejects(store.create(session('nightly-2')), (e) => isSidestashError(e, ErrorCodes.CONFLICT));
  store.close();
});
