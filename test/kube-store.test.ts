// The Kubernetes resource store (controller/kubernetes/kubernetes-store.ts) on a real
// kube-apiserver: the resource store contract (controller/store/resource-store.contract.ts, the
// suite the sqlite store passes), then what only a Kubernetes store has to prove: kubectl's
// writes are seen by get, list and watch; a Secret made with kubectl is read as our Secret and
// no value is kept in the store's cache; a kubectl write between a read and a write is a
// CONFLICT; spec and status are written apart; creation order survives the server's whole
// seconds; a status that cannot be written undoes the create; the server's 422 is
// VALIDATION_FAILED with the field; and after a 410 Gone the store lists again and ends equal to
// the server.
// The contract's documents have free-form specs ({ n: 1 }), so the CRDs applied here are the
// chart's (charts/sidestash/crds: group, names, scope, status subresource) with the schema of
// spec and status opened (x-kubernetes-preserve-unknown-fields): the contract is about storage,
// the schemas are test/kube-crds.test.ts's. The last suite then applies the chart's own CRDs:
// the examples applied with kubectl read back as valid documents, and a document the schema
// refuses is VALIDATION_FAILED with its field path. Watches are served from etcd (--watch-cache=false),
// so that compacting etcd expires a resourceVersion at once (the 410 test).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { KubeClient } from '../controller/kubernetes/kube-client.ts';
import type { WatchEvent, WatchOptions } from '../controller/kubernetes/kube-client.ts';
import type { KubeObject, ResourceType } from '../controller/kubernetes/resource-type.ts';
import { loadKubeConnection } from '../controller/kubernetes/kube-config.ts';
import { KubernetesStore } from '../controller/kubernetes/kubernetes-store.ts';
import { CREATED_AT_ANNOTATION } from '../controller/kubernetes/store-mapping.ts';
import { byCreation } from '../controller/store/resource-order.ts';
import { resourceStoreContract } from '../controller/store/resource-store.contract.ts';
import type { ResourceEvent } from '../controller/store/resource-store.ts';
import { isStaleVersion } from '../controller/store/retry-on-conflict.ts';
import { PLURALS } from '../controller/resources/types.ts';
import type { Kind, Resource } from '../controller/resources/types.ts';
import { validateResource } from '../controller/resources/validate.ts';
import { startKubeApiServer } from './helpers/kube-apiserver.ts';
import type { KubeApiServer } from './helpers/kube-apiserver.ts';
import { waitFor } from './helpers/scenario.ts';
import { startTcpCutter } from './helpers/tcp-cutter.ts';
import type { TcpCutter } from './helpers/tcp-cutter.ts';

const CRD_DIR = fileURLToPath(new URL('../charts/sidestash/crds/', import.meta.url));
const CONTRACT_NAMESPACES = ['default', 'a', 'b', 'other'];
const CR_KINDS: Kind[] = ['Repository', 'AppBinding', 'BackupConfiguration', 'BackupSession', 'RestoreSession'];
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child() { return this; } };

let kube: KubeApiServer;
let client: KubeClient;
const stores: KubernetesStore[] = [];

/** The chart's CRDs with free-form spec and status (see the header). */
function openCrds(): unknown[] {
  const open = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml')).map((f) => {
    const crd = parse(readFileSync(join(CRD_DIR, f), 'utf8'));
    for (const v of crd.spec.versions) v.schema = { openAPIV3Schema: { type: 'object', properties: { spec: open, status: open } } };
    return crd;
  });
}

before(async () => {
  kube = await startKubeApiServer({ apiServerArgs: ['--watch-cache=false'] });
  for (const crd of openCrds()) await kube.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(crd) });
  await kube.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', ...CR_KINDS.map((k) => `crd/${PLURALS[k]}.sidestash.io`)]);
  for (const ns of [...CONTRACT_NAMESPACES.filter((n) => n !== 'default'), 'k8s']) await kube.kubectlOk(['create', 'namespace', ns]);
  client = new KubeClient(loadKubeConnection({ SIDESTASH_KUBECONFIG: kube.kubeconfig }));
});

after(async () => {
  for (const s of stores) s.close();
  await client?.close();
  await kube?.stop();
});

async function newStore(options: { client?: KubeClient; namespaces?: string[] } = {}): Promise<KubernetesStore> {
  const store = new KubernetesStore({ client: options.client ?? client, log: quiet, ...(options.namespaces ? { namespaces: options.namespaces } : {}) });
  stores.push(store);
  await store.start();
  return store;
}

/** Deletes every resource and Secret of the contract's namespaces: each contract test starts empty. */
async function wipe(): Promise<void> {
  for (const ns of CONTRACT_NAMESPACES) {
    for (const kind of CR_KINDS) {
      const r = await kube.request('DELETE', `/apis/sidestash.io/v1/namespaces/${ns}/${PLURALS[kind]}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    const r = await kube.request('DELETE', `/api/v1/namespaces/${ns}/secrets`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
}

// Deno's node:test declares suites synchronously: the contract's describe is declared here and
// its open() runs after before() has started the server.
resourceStoreContract('kubernetes (real kube-apiserver)', async () => {
  await wipe();
  return newStore({ namespaces: CONTRACT_NAMESPACES });
});

const kubectlJson = async (args: string[]): Promise<any> => JSON.parse(await kube.kubectlOk([...args, '-o', 'json']));
const repo = (name: string, spec: Record<string, unknown> = { n: 1 }, status?: Record<string, unknown>): Resource => ({
  apiVersion: 'sidestash.io/v1', kind: 'Repository', metadata: { name, namespace: 'k8s' }, spec, ...(status ? { status } : {}),
});

/** A client that keeps what its Secret watches deliver, to prove no value comes that way. */
class SecretWatchSpy extends KubeClient {
  readonly secretEvents: string[] = [];
  override async *watch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options: WatchOptions): AsyncGenerator<WatchEvent<T>> {
    for await (const event of super.watch<T>(type, namespace, options)) {
      if (type.kind === 'Secret') this.secretEvents.push(JSON.stringify(event));
      yield event;
    }
  }
}

describe('kubernetes store: what only Kubernetes has', () => {
  let store: KubernetesStore;
  let spy: SecretWatchSpy;
  before(async () => {
    spy = new SecretWatchSpy(loadKubeConnection({ SIDESTASH_KUBECONFIG: kube.kubeconfig }));
    store = await newStore({ client: spy });
  });
  after(async () => {
    store.close();
    await spy.close();
  });

  it('a change made with kubectl is seen by get, list and watch (ADDED, MODIFIED, DELETED)', async () => {
    const events: ResourceEvent[] = [];
    const stop = store.watch((e) => e.resource.metadata.namespace === 'k8s' && e.resource.metadata.name === 'by-kubectl' && events.push(e));
    await kube.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'sidestash.io/v1', kind: 'Repository', metadata: { name: 'by-kubectl', namespace: 'k8s', labels: { team: 'db' } }, spec: { v: 1 } }) });
    const seen = await waitFor('the store to see the kubectl create', 30_000, async () => store.get('Repository', 'k8s', 'by-kubectl'));
    assert.deepEqual(seen.spec, { v: 1 });
    const server = await kubectlJson(['-n', 'k8s', 'get', 'repository', 'by-kubectl']);
    assert.equal(seen.metadata.uid, server.metadata.uid);
    assert.equal(seen.metadata.resourceVersion, server.metadata.resourceVersion);
    assert.equal(seen.metadata.creationTimestamp, new Date(server.metadata.creationTimestamp).toISOString(), 'without the annotation, the server time');
    assert.deepEqual((await store.list('Repository', { namespace: 'k8s', labelSelector: 'team=db' })).map((r) => r.metadata.name), ['by-kubectl']);
    await kube.kubectlOk(['-n', 'k8s', 'patch', 'repository', 'by-kubectl', '--type=merge', '-p', '{"spec":{"v":2}}']);
    await waitFor('the store to see the kubectl patch', 30_000, async () => ((await store.get('Repository', 'k8s', 'by-kubectl'))?.spec.v === 2 ? true : undefined));
    await kube.kubectlOk(['-n', 'k8s', 'delete', 'repository', 'by-kubectl']);
    await waitFor('the store to see the kubectl delete', 30_000, async () => ((await store.get('Repository', 'k8s', 'by-kubectl')) === undefined ? true : undefined));
    await waitFor('three events', 30_000, async () => (events.length >= 3 ? true : undefined));
    stop();
    assert.deepEqual(events.map((e) => [e.type, (e.resource.spec as { v?: unknown }).v]), [['ADDED', 1], ['MODIFIED', 2], ['DELETED', 2]]);
  });

  it('a Secret made with kubectl is read as our Secret (data, base64); the store keeps no value of it', async () => {
    const events: ResourceEvent[] = [];
    const stop = store.watch((e) => e.resource.kind === 'Secret' && events.push(e));
    await kube.kubectlOk(['-n', 'k8s', 'create', 'secret', 'generic', 'db-auth', '--from-literal=username=root', '--from-literal=password=hunter2']);
    const secret = await store.get('Secret', 'k8s', 'db-auth');
    assert.deepEqual(secret?.spec, { data: { username: Buffer.from('root').toString('base64'), password: Buffer.from('hunter2').toString('base64') } });
    assert.deepEqual((await store.list('Secret', { namespace: 'k8s' })).map((s) => s.metadata.name), ['db-auth']);
    // Our Secret written with stringData is a core Secret of type Opaque.
    const ours = await store.create({ apiVersion: 'sidestash.io/v1', kind: 'Secret', metadata: { name: 'repo-pass', namespace: 'k8s' }, spec: { stringData: { RESTIC_PASSWORD: 'pw-1' } } });
    const core = await kubectlJson(['-n', 'k8s', 'get', 'secret', 'repo-pass']);
    assert.equal(core.type, 'Opaque');
    assert.deepEqual(core.data, { RESTIC_PASSWORD: Buffer.from('pw-1').toString('base64') });
    assert.deepEqual(ours.spec, { data: core.data });
    const updated = await store.update({ ...ours, spec: { stringData: { RESTIC_PASSWORD: 'pw-2' } } }, { ifVersion: ours.metadata.resourceVersion! });
    assert.deepEqual((await store.get('Secret', 'k8s', 'repo-pass'))?.spec, { data: { RESTIC_PASSWORD: Buffer.from('pw-2').toString('base64') } });
    assert.equal((await kubectlJson(['-n', 'k8s', 'get', 'secret', 'repo-pass'])).metadata.annotations[CREATED_AT_ANNOTATION], ours.metadata.creationTimestamp, 'the update kept the annotation');
    await assert.rejects(store.update({ ...ours, spec: { stringData: { RESTIC_PASSWORD: 'stale' } } }, { ifVersion: ours.metadata.resourceVersion! }), isStaleVersion);
    await assert.rejects(store.updateStatus({ ...updated, status: { x: 1 } }, { ifVersion: updated.metadata.resourceVersion! }), (e) => isSidestashError(e, ErrorCodes.INVALID_ARGUMENT));
    await waitFor('the Secret events', 30_000, async () => (events.length >= 3 ? true : undefined));
    stop();
    for (const e of events) assert.deepEqual(e.resource.spec, {}, 'a Secret event carries no value');
    assert.ok(!JSON.stringify(events).includes(Buffer.from('hunter2').toString('base64')));
    // The store's Secret watch receives metadata only: the values never came over the wire that way.
    assert.ok(spy.secretEvents.some((e) => e.includes('"db-auth"')), 'the watch saw the Secret');
    for (const e of spy.secretEvents) assert.ok(!e.includes(Buffer.from('hunter2').toString('base64')) && !e.includes('"data"'), e);
  });

  it('a write made with kubectl between a read and a write: update, updateStatus and delete are CONFLICT (retryable) and write nothing', async () => {
    const read = await store.create(repo('raced', { v: 1 }, { phase: 'Ready' }));
    await kube.kubectlOk(['-n', 'k8s', 'patch', 'repository', 'raced', '--type=merge', '-p', '{"spec":{"v":2}}']);
    const stale = (e: unknown) => isSidestashError(e, ErrorCodes.CONFLICT) && isStaleVersion(e);
    await assert.rejects(store.update({ ...read, spec: { v: 3 } }, { ifVersion: read.metadata.resourceVersion! }), stale);
    await assert.rejects(store.updateStatus({ ...read, status: { phase: 'Lost' } }, { ifVersion: read.metadata.resourceVersion! }), stale);
    await assert.rejects(store.delete('Repository', 'k8s', 'raced', { ifVersion: read.metadata.resourceVersion! }), stale);
    const server = await kubectlJson(['-n', 'k8s', 'get', 'repository', 'raced']);
    assert.deepEqual([server.spec, server.status], [{ v: 2 }, { phase: 'Ready' }]);
    await assert.rejects(store.create(repo('raced')), (e) => isSidestashError(e, ErrorCodes.CONFLICT) && !isStaleVersion(e), 'a taken name is not retryable');
  });

  it('spec and status are written apart: kubectl edits the spec, the store the status, neither undoes the other', async () => {
    const created = await store.create(repo('apart', { v: 1 }, { phase: 'Pending' }));
    assert.deepEqual((await kubectlJson(['-n', 'k8s', 'get', 'repository', 'apart'])).status, { phase: 'Pending' }, 'the status given at create is on the server');
    await kube.kubectlOk(['-n', 'k8s', 'patch', 'repository', 'apart', '--type=merge', '-p', '{"spec":{"v":2},"status":{"phase":"Forged"}}']);
    const afterKubectl = await waitFor('the spec change', 30_000, async () => {
      const r = await store.get('Repository', 'k8s', 'apart');
      return r?.spec.v === 2 ? r : undefined;
    });
    assert.deepEqual(afterKubectl.status, { phase: 'Pending' }, 'a write of the main resource does not touch the status');
    const running = await store.updateStatus({ ...afterKubectl, spec: { v: 99 }, status: { phase: 'Running' } }, { ifVersion: afterKubectl.metadata.resourceVersion! });
    assert.deepEqual([running.spec, running.status], [{ v: 2 }, { phase: 'Running' }]);
    const server = await kubectlJson(['-n', 'k8s', 'get', 'repository', 'apart']);
    assert.deepEqual([server.spec, server.status], [{ v: 2 }, { phase: 'Running' }]);
    const respec = await store.update({ ...running, spec: { v: 3 }, status: { phase: 'Forged' } }, { ifVersion: running.metadata.resourceVersion! });
    assert.deepEqual([respec.spec, respec.status], [{ v: 3 }, { phase: 'Running' }]);
    assert.equal(respec.metadata.uid, created.metadata.uid);
  });

  it('an update keeps what kubectl put into metadata (annotations, finalizers): only labels and spec are the store’s', async () => {
    const created = await store.create(repo('kept-meta'));
    await kube.kubectlOk(['-n', 'k8s', 'annotate', 'repository', 'kept-meta', 'owner=dba-team']);
    const annotated = await waitFor('the annotation write', 30_000, async () => {
      const r = await store.get('Repository', 'k8s', 'kept-meta');
      return r && r.metadata.resourceVersion !== created.metadata.resourceVersion ? r : undefined;
    });
    await store.update({ ...annotated, metadata: { ...annotated.metadata, labels: { a: '1' }, creationTimestamp: '2001-01-01T00:00:00.000Z' }, spec: { n: 2 } }, { ifVersion: annotated.metadata.resourceVersion! });
    const server = await kubectlJson(['-n', 'k8s', 'get', 'repository', 'kept-meta']);
    assert.equal(server.metadata.annotations.owner, 'dba-team');
    assert.equal(server.metadata.annotations[CREATED_AT_ANNOTATION], created.metadata.creationTimestamp);
    assert.deepEqual(server.metadata.labels, { a: '1' });
  });

  it('creation order is exact to the millisecond although Kubernetes keeps whole seconds (the created-at annotation)', async () => {
    const base = Date.now();
    // Within one server second, the later name first: only the milliseconds order them.
    const second = Math.floor(base / 1000) * 1000;
    await store.create({ ...repo('order-a'), kind: 'RestoreSession', metadata: { name: 'order-a', namespace: 'k8s', creationTimestamp: new Date(second + 900).toISOString() } });
    await store.create({ ...repo('order-b'), kind: 'RestoreSession', metadata: { name: 'order-b', namespace: 'k8s', creationTimestamp: new Date(second + 100).toISOString() } });
    const listed = (await store.list('RestoreSession', { namespace: 'k8s' })).sort(byCreation);
    assert.deepEqual(listed.map((r) => [r.metadata.name, r.metadata.creationTimestamp]), [['order-b', new Date(second + 100).toISOString()], ['order-a', new Date(second + 900).toISOString()]]);
    const server = await kubectlJson(['-n', 'k8s', 'get', 'restoresession', 'order-a']);
    assert.match(server.metadata.creationTimestamp, /:\d\dZ$/, 'the server keeps whole seconds');
    assert.equal(server.metadata.annotations[CREATED_AT_ANNOTATION], new Date(second + 900).toISOString());
  });

  it('a status that cannot be written undoes its create: the name stays free', async () => {
    // etcd refuses a write over 1.5 MiB: the object is created, its status write fails.
    const huge = { blob: 'x'.repeat(2 * 1024 * 1024) };
    await assert.rejects(store.create(repo('half', { v: 1 }, huge)), (e) => isSidestashError(e));
    assert.equal((await kube.request('GET', '/apis/sidestash.io/v1/namespaces/k8s/repositories/half')).status, 404, 'the object was deleted again');
    const again = await store.create(repo('half', { v: 1 }, { ok: true }));
    assert.deepEqual(again.status, { ok: true });
  });

  it('the server’s 422 is VALIDATION_FAILED with the field path; a namespace it does not serve is FORBIDDEN', async () => {
    await assert.rejects(store.create({ ...repo('bad-label'), metadata: { name: 'bad-label', namespace: 'k8s', labels: { team: 'not a label value!' } } }), (e) => {
      assert.ok(isSidestashError(e, ErrorCodes.VALIDATION_FAILED), String(e));
      assert.ok((e.details.errors as { field: string }[]).some((x) => x.field === 'metadata.labels'), JSON.stringify(e.details));
      return true;
    });
    const narrow = await newStore({ namespaces: ['k8s'] });
    await assert.rejects(narrow.create({ ...repo('elsewhere'), metadata: { name: 'elsewhere', namespace: 'a' } }), (e) => isSidestashError(e, ErrorCodes.FORBIDDEN));
    assert.equal(await narrow.get('Repository', 'a', 'anything'), undefined);
    assert.deepEqual(await narrow.list('Repository', { namespace: 'a' }), []);
    assert.ok((await narrow.list('Repository')).every((r) => r.metadata.namespace === 'k8s'));
    assert.ok((await narrow.list('Repository')).length > 0);
    narrow.close();
  });
});

/** Compacts etcd's history up to its current revision: older resourceVersions are gone. */
async function compactEtcd(): Promise<void> {
  const range = await (await fetch(`${kube.etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') }) })).json() as { header: { revision: string } };
  const res = await fetch(`${kube.etcdUrl}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: range.header.revision, physical: true }) });
  assert.equal(res.status, 200, await res.text());
}

describe('kubernetes store after 410 Gone', () => {
  let cutter: TcpCutter;
  let viaCutter: KubeClient;
  before(async () => {
    cutter = await startTcpCutter(kube.url);
    viaCutter = new KubeClient({ ...loadKubeConnection({ SIDESTASH_KUBECONFIG: kube.kubeconfig }), server: cutter.url });
  });
  after(async () => {
    await viaCutter?.close();
    await cutter?.stop();
  });

  it('lists again, hears what changed meanwhile, and ends equal to the server', async () => {
    await kube.kubectlOk(['create', 'namespace', 'gone']);
    const mk = (name: string, v: number) => kube.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'sidestash.io/v1', kind: 'AppBinding', metadata: { name, namespace: 'gone' }, spec: { v } }) });
    for (const n of ['keep', 'change', 'remove']) await mk(n, 0);
    const store = new KubernetesStore({ client: viaCutter, namespaces: ['gone'], log: quiet, informerBackoff: { attempts: Infinity, baseDelayMs: 100, maxDelayMs: 500 } });
    stores.push(store);
    await store.start();
    const events: string[] = [];
    store.watch((e) => e.resource.kind === 'AppBinding' && events.push(`${e.type} ${e.resource.metadata.name}=${String((e.resource.spec as { v?: unknown }).v)}`));
    await waitFor('the watches to be open', 30_000, async () => (store.informerStats().watches >= 6 ? true : undefined));
    cutter.hold();
    cutter.cut();
    await mk('change', 1);
    await kube.kubectlOk(['-n', 'gone', 'delete', 'appbinding', 'remove']);
    await mk('new', 1);
    await compactEtcd();
    cutter.release();
    await waitFor('the store to list again after 410', 60_000, async () => (store.informerStats().expired >= 1 ? true : undefined));
    await waitFor('the store to catch up', 60_000, async () => (events.length >= 3 ? true : undefined));
    assert.deepEqual(events.sort(), ['ADDED new=1', 'DELETED remove=0', 'MODIFIED change=1']);
    const server = (await kubectlJson(['-n', 'gone', 'get', 'appbindings'])).items.map((o: any) => `${o.metadata.name}@${o.metadata.resourceVersion}`);
    assert.deepEqual((await store.list('AppBinding', { namespace: 'gone' })).map((r) => `${r.metadata.name}@${r.metadata.resourceVersion}`), server);
    // And writes after the re-list are seen by reads at once.
    const kept = (await store.get('AppBinding', 'gone', 'keep'))!;
    const written = await store.update({ ...kept, spec: { v: 5 } }, { ifVersion: kept.metadata.resourceVersion! });
    assert.deepEqual(await store.get('AppBinding', 'gone', 'keep'), written);
    store.close();
  });
});

// Last in this file: the open CRDs are replaced by the chart's own (same names), so that the
// server's schema validation and the examples of examples/kubernetes/ meet the store.
describe('kubernetes store with the chart’s CRDs', () => {
  let store: KubernetesStore;
  const invalidRepo = (name: string): Resource => ({ apiVersion: 'sidestash.io/v1', kind: 'Repository', metadata: { name, namespace: 'shop' }, spec: { backend: { local: { path: '/var/backups/x' } } } });
  before(async () => {
    await kube.kubectlOk(['apply', '-f', CRD_DIR]);
    await kube.kubectlOk(['create', 'namespace', 'shop']);
    store = await newStore({ namespaces: ['shop'] });
    // A CRD's new schema takes effect shortly after the update: wait until the server refuses.
    await waitFor('the chart’s schemas to be in force', 60_000, async () => {
      try {
        await store.create(invalidRepo('probe'));
        await store.delete('Repository', 'shop', 'probe');
        return undefined;
      } catch (err) {
        return isSidestashError(err, ErrorCodes.VALIDATION_FAILED) ? true : undefined;
      }
    });
    await kube.kubectlOk(['apply', '-n', 'shop', '-f', fileURLToPath(new URL('../examples/kubernetes/', import.meta.url))]);
  });

  it('the examples applied with kubectl read back as documents the HTTP API’s validation accepts, Secrets included', async () => {
    for (const [kind, name] of [['Repository', 'shop-repo'], ['AppBinding', 'shop-db'], ['BackupConfiguration', 'shop-backup'], ['Secret', 'shop-repo-secret'], ['Secret', 'shop-db-auth']] as const) {
      const doc = await waitFor(`${kind} ${name} in the store`, 30_000, async () => store.get(kind, 'shop', name));
      assert.deepEqual(validateResource(doc), [], `${kind} ${name}`);
    }
    const auth = (await store.get<{ data: Record<string, string> }>('Secret', 'shop', 'shop-db-auth'))!;
    assert.deepEqual(Object.keys(auth.spec.data).sort(), ['password', 'username']);
    assert.equal(Buffer.from(auth.spec.data.username!, 'base64').toString(), 'sidestash');
  });

  it('a document the CRD schema refuses is VALIDATION_FAILED with the field path, and nothing is stored', async () => {
    await assert.rejects(store.create(invalidRepo('no-secret')), (e) => {
      assert.ok(isSidestashError(e, ErrorCodes.VALIDATION_FAILED), String(e));
      assert.ok((e.details.errors as { field: string }[]).some((x) => x.field === 'spec.backend.storageSecretName'), JSON.stringify(e.details.errors));
      return true;
    });
    assert.equal((await kube.request('GET', '/apis/sidestash.io/v1/namespaces/shop/repositories/no-secret')).status, 404);
    // A valid one with a status: both writes pass the schemas (the status one included).
    const ok = await store.create({ apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: { name: 'manual-1', namespace: 'shop' },
      spec: { invoker: { apiGroup: 'sidestash.io', kind: 'BackupConfiguration', name: 'shop-backup' } }, status: { phase: 'Pending' } });
    assert.deepEqual(ok.status, { phase: 'Pending' });
    assert.deepEqual(validateResource(ok), []);
  });
});
