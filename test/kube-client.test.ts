// The Kubernetes client (controller/kubernetes/kube-client.ts) against a real kube-apiserver:
// the kubeconfig is loaded as the controller loads it, optimistic concurrency refuses a stale
// write, the server's refusals become the product's error codes, lists follow `continue`, and a
// rotated token file is read again after a 401.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import { KubeClient } from '../controller/kubernetes/kube-client.ts';
import { loadKubeConnection } from '../controller/kubernetes/kube-config.ts';
import { ConfigMaps, Leases } from '../controller/kubernetes/resource-type.ts';
import type { KubeObject } from '../controller/kubernetes/resource-type.ts';
import { startKubeApiServer } from './helpers/kube-apiserver.ts';
import type { KubeApiServer } from './helpers/kube-apiserver.ts';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

let kube: KubeApiServer;
let client: KubeClient;
before(async () => {
  kube = await startKubeApiServer();
  client = new KubeClient(loadKubeConnection({ SIDESTASH_KUBECONFIG: kube.kubeconfig }));
  await kube.kubectlOk(['create', 'namespace', 'k3']);
});
after(async () => {
  await client?.close();
  await kube?.stop();
});

const rejectsWith = async (p: Promise<unknown>, code: string, check?: (err: SidestashError) => void): Promise<void> => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof SidestashError, `expected a SidestashError ${code}, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  check?.(err);
};

test('create, get, replace with the current version, and kubectl sees the object', async () => {
  const created = await client.create<ConfigMap>(ConfigMaps, { metadata: { name: 'a', namespace: 'k3' }, data: { x: '1' } });
  assert.ok(created.metadata.resourceVersion);
  assert.ok(created.metadata.uid);
  const got = await client.get<ConfigMap>(ConfigMaps, 'k3', 'a');
  assert.deepEqual(got.data, { x: '1' });
  const replaced = await client.replace<ConfigMap>(ConfigMaps, { ...got, data: { x: '2' } });
  assert.notEqual(replaced.metadata.resourceVersion, got.metadata.resourceVersion);
  assert.equal(await kube.kubectlOk(['-n', 'k3', 'get', 'configmap', 'a', '-o', 'jsonpath={.data.x}']), '2');
});

test('a write from a stale resourceVersion is CONFLICT (reason Conflict), the object unchanged', async () => {
  const v1 = await client.create<ConfigMap>(ConfigMaps, { metadata: { name: 'cas', namespace: 'k3' }, data: { n: '1' } });
  await client.replace<ConfigMap>(ConfigMaps, { ...v1, data: { n: '2' } });
  await rejectsWith(client.replace<ConfigMap>(ConfigMaps, { ...v1, data: { n: 'stale' } }), ErrorCodes.CONFLICT, (err) => {
    assert.equal(err.details.reason, 'Conflict');
    assert.equal(err.retryable, false);
  });
  assert.deepEqual((await client.get<ConfigMap>(ConfigMaps, 'k3', 'cas')).data, { n: '2' });
  // A delete with a stale precondition is refused too; with the current one it goes.
  await rejectsWith(client.delete(ConfigMaps, 'k3', 'cas', { resourceVersion: v1.metadata.resourceVersion! }), ErrorCodes.CONFLICT);
  const current = await client.get<ConfigMap>(ConfigMaps, 'k3', 'cas');
  await client.delete(ConfigMaps, 'k3', 'cas', { resourceVersion: current.metadata.resourceVersion! });
  await rejectsWith(client.get(ConfigMaps, 'k3', 'cas'), ErrorCodes.NOT_FOUND);
});

test('creating an existing name is CONFLICT with reason AlreadyExists; a missing object NOT_FOUND', async () => {
  await client.create<ConfigMap>(ConfigMaps, { metadata: { name: 'twice', namespace: 'k3' } });
  await rejectsWith(client.create<ConfigMap>(ConfigMaps, { metadata: { name: 'twice', namespace: 'k3' } }), ErrorCodes.CONFLICT, (err) => assert.equal(err.details.reason, 'AlreadyExists'));
  await rejectsWith(client.get(ConfigMaps, 'k3', 'nothing-here'), ErrorCodes.NOT_FOUND, (err) => assert.equal(err.details.kubeStatus, 404));
});

test('an invalid object is VALIDATION_FAILED with the field paths of its causes', async () => {
  const lease = { metadata: { name: 'bad', namespace: 'k3' }, spec: { leaseDurationSeconds: -5 } };
  await rejectsWith(client.create(Leases, lease), ErrorCodes.VALIDATION_FAILED, (err) => {
    const causes = err.details.causes as { field?: string }[];
    assert.ok(causes.some((c) => c.field === 'spec.leaseDurationSeconds'), JSON.stringify(causes));
  });
});

test('a name that is not a DNS name never reaches a URL', async () => {
  await rejectsWith(client.get(ConfigMaps, 'k3', '../../secrets/x'), ErrorCodes.INVALID_ARGUMENT);
  await rejectsWith(client.list(ConfigMaps, 'K3 x'), ErrorCodes.INVALID_ARGUMENT);
  await rejectsWith(client.delete(ConfigMaps, 'k3', 'a?dryRun=All'), ErrorCodes.INVALID_ARGUMENT);
});

test('a list follows `continue` to the end and carries the resourceVersion to watch from', async () => {
  await kube.kubectlOk(['create', 'namespace', 'k3-many']);
  for (let i = 0; i < 7; i++) await client.create<ConfigMap>(ConfigMaps, { metadata: { name: `m${i}`, namespace: 'k3-many' } });
  const list = await client.list<ConfigMap>(ConfigMaps, 'k3-many', { pageSize: 2 });
  // kube-root-ca.crt is not there: no controller manager in this harness.
  assert.deepEqual(list.items.map((o) => o.metadata.name).sort(), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  assert.match(list.metadata.resourceVersion ?? '', /^\d+$/);
});

test('an unknown token is UNAUTHORIZED, a token without rights FORBIDDEN', async () => {
  const conn = loadKubeConnection({ SIDESTASH_KUBECONFIG: kube.kubeconfig });
  const stranger = new KubeClient({ ...conn, credentials: { kind: 'token', token: 'not-a-token' } });
  await rejectsWith(stranger.get(ConfigMaps, 'k3', 'a'), ErrorCodes.UNAUTHORIZED);
  await stranger.close();
  await kube.kubectlOk(['-n', 'k3', 'create', 'serviceaccount', 'nobody']);
  const token = (await kube.kubectlOk(['-n', 'k3', 'create', 'token', 'nobody'])).trim();
  const nobody = new KubeClient({ ...conn, credentials: { kind: 'token', token } });
  await rejectsWith(nobody.get(ConfigMaps, 'k3', 'a'), ErrorCodes.FORBIDDEN, (err) => assert.equal(err.retryable, false));
  await nobody.close();
});

test('a token file is read again after a 401 (the kubelet rotated it)', async () => {
  const conn = loadKubeConnection({ SIDESTASH_KUBECONFIG: kube.kubeconfig });
  const file = join(kube.dir, 'rotating-token');
  await writeFile(file, 'an-old-token\n');
  const rotating = new KubeClient({ ...conn, credentials: { kind: 'token-file', file } });
  await rejectsWith(rotating.get(ConfigMaps, 'k3', 'a'), ErrorCodes.UNAUTHORIZED);
  await writeFile(file, `${kube.token}\n`);
  // Within the minute the cached token would be used; the 401 makes the client read the file again.
  const got = await rotating.get<ConfigMap>(ConfigMaps, 'k3', 'a');
  assert.equal(got.metadata.name, 'a');
  await rotating.close();
});

test('a server that is not there is KUBE_UNAVAILABLE and retryable; an aborted call ABORTED', async () => {
  const conn = loadKubeConnection({ SIDESTASH_KUBECONFIG: kube.kubeconfig });
  const gone = new KubeClient({ ...conn, server: 'https://127.0.0.1:1' });
  await rejectsWith(gone.get(ConfigMaps, 'k3', 'a'), ErrorCodes.KUBE_UNAVAILABLE, (err) => assert.equal(err.retryable, true));
  await gone.close();
  await rejectsWith(client.get(ConfigMaps, 'k3', 'a', AbortSignal.abort()), ErrorCodes.ABORTED);
});
