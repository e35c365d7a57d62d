// KubeDB's AppBindings (appcatalog.appscode.com/v1alpha1) as session targets on a real
// kube-apiserver (controller/kubernetes/kubedb-appbinding.ts): the appcatalog CRD installed as
// KubeDB's installer does (a structural schema that keeps unknown fields), after the store
// started; a KubeDB-shaped AppBinding made with kubectl is read by the Kubernetes store as our
// AppBinding, which validateResource accepts, and the session assignment takes host, port,
// credentials and CA from it; the resolution rule picks ours or KubeDB's; a PostgreSQL binding
// is refused naming spec.type; and KubeDB's object is never written.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { KubeClient } from '../controller/kubernetes/kube-client.ts';
import { loadKubeConnection } from '../controller/kubernetes/kube-config.ts';
import { servesKubeDbAppBindings } from '../controller/kubernetes/kubedb-appbinding.ts';
import { KubernetesStore } from '../controller/kubernetes/kubernetes-store.ts';
import { PLURALS } from '../controller/resources/types.ts';
import type { BackupSessionSpec, Kind, Resource, RestoreSessionSpec } from '../controller/resources/types.ts';
import { validateResource } from '../controller/resources/validate.ts';
import { backupAssignment, restoreAssignment } from '../controller/sessions/assignment.ts';
import { startKubeApiServer } from './helpers/kube-apiserver.ts';
import type { KubeApiServer } from './helpers/kube-apiserver.ts';
import { waitFor } from './helpers/scenario.ts';

const CRD_DIR = fileURLToPath(new URL('../charts/sidestash/crds/', import.meta.url));
const CR_KINDS: Kind[] = ['Repository', 'AppBinding', 'BackupConfiguration', 'BackupSession', 'RestoreSession'];
const NS = 'demo';
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child() { return this; } };
const CA = '-----BEGIN CERTIFICATE-----\nMIIBkubedb\n-----END CERTIFICATE-----\n';

/** A minimal appcatalog.appscode.com AppBinding CRD, as KubeDB's installer applies it (structural, unknown fields kept). */
const APPCATALOG_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
  metadata: { name: 'appbindings.appcatalog.appscode.com' },
  spec: {
    group: 'appcatalog.appscode.com', scope: 'Namespaced',
    names: { kind: 'AppBinding', listKind: 'AppBindingList', plural: 'appbindings', singular: 'appbinding', shortNames: ['app'], categories: ['catalog', 'appscode', 'all'] },
    versions: [{ name: 'v1alpha1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } } }],
  },
};

/** An AppBinding as KubeDB's operator writes it for a MariaDB. */
const kubedbAppBinding = (name: string, type = 'kubedb.com/mariadb') => ({
  apiVersion: 'appcatalog.appscode.com/v1alpha1', kind: 'AppBinding',
  metadata: { name, namespace: NS, labels: { 'app.kubernetes.io/instance': name, 'app.kubernetes.io/managed-by': 'kubedb.com' } },
  spec: {
    appRef: { apiGroup: 'kubedb.com', kind: 'MariaDB', name, namespace: NS },
    clientConfig: { service: { name, path: '/', port: 3306, scheme: 'mysql' }, url: `tcp(${name}.${NS}.svc:3306)/?tls=custom`, caBundle: Buffer.from(CA).toString('base64') },
    parameters: { apiVersion: 'config.kubedb.com/v1alpha1', kind: 'MariaDBConfiguration', stash: { addon: { backupTask: { name: 'mariadb-backup-10.5.8' }, restoreTask: { name: 'mariadb-restore-10.5.8' } } } },
    secret: { name: `${name}-auth` },
    secretTransforms: [{ renameKey: { from: 'user', to: 'username' } }],
    tlsSecret: { name: `${name}-client-cert` },
    type,
    version: '10.5.8',
  },
});

const secret = (name: string, stringData: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, stringData });
const config = (name: string, ref: Record<string, unknown>) => ({
  apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name, namespace: NS },
  spec: { schedule: '*/5 * * * *', task: { name: 'mariadb-backup-10.5.8' }, repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', ...ref } } },
});
const session = (configName: string): Resource<BackupSessionSpec, unknown> => ({
  apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: { name: `${configName}-1`, namespace: NS }, spec: { invoker: { kind: 'BackupConfiguration', name: configName } },
});

let kube: KubeApiServer;
let client: KubeClient;
let store: KubernetesStore;

const apply = (...objects: unknown[]) => kube.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
const seen = (kind: Kind, name: string) => waitFor(`the store to see ${kind} ${name}`, 30_000, () => store.get(kind, NS, name));
const kubedbVersion = async (name: string): Promise<string> => JSON.parse(await kube.kubectlOk(['-n', NS, 'get', 'appbindings.appcatalog.appscode.com', name, '-o', 'json'])).metadata.resourceVersion;

before(async () => {
  kube = await startKubeApiServer();
  for (const f of readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml'))) await kube.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(parse(readFileSync(join(CRD_DIR, f), 'utf8'))) });
  await kube.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', ...CR_KINDS.map((k) => `crd/${PLURALS[k]}.sidestash.io`)]);
  await kube.kubectlOk(['create', 'namespace', NS]);
  client = new KubeClient(loadKubeConnection({ SIDESTASH_KUBECONFIG: kube.kubeconfig }));
  store = new KubernetesStore({ client, log: quiet, namespaces: [NS] });
  await store.start();
  await apply(
    secret('repo-secret', { RESTIC_PASSWORD: 'pw' }),
    { apiVersion: 'sidestash.io/v1', kind: 'Repository', metadata: { name: 'repo', namespace: NS }, spec: { backend: { local: { path: '/backup' }, storageSecretName: 'repo-secret' } } },
  );
  await seen('Repository', 'repo');
});

after(async () => {
  store?.close();
  await client?.close();
  await kube?.stop();
});

describe("KubeDB's AppBindings on a real API server", () => {
  it('before the appcatalog CRD is installed: not served, and a target naming it is refused as missing', async () => {
    assert.equal(await servesKubeDbAppBindings(client), false);
    await apply(config('early', { apiVersion: 'appcatalog.appscode.com/v1alpha1', name: 'sample-mariadb' }));
    await seen('BackupConfiguration', 'early');
    await assert.rejects(backupAssignment(store, session('early'), Date.now()), (err) => isSidestashError(err, ErrorCodes.INVALID_CONFIG) && /sample-mariadb, which does not exist/.test((err as Error).message));
  });

  it('installed after the store started, a KubeDB AppBinding made with kubectl serves as the target: host, port, credentials and CA', async () => {
    await kube.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(APPCATALOG_CRD) });
    await kube.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd/appbindings.appcatalog.appscode.com']);
    await waitFor('appcatalog to be served', 30_000, async () => (await servesKubeDbAppBindings(client)) || undefined);
    await apply(
      kubedbAppBinding('sample-mariadb'),
      secret('sample-mariadb-auth', { username: 'root', password: 's3cret' }),
      secret('sample-mariadb-client-cert', { 'ca.crt': CA, 'tls.crt': 'c', 'tls.key': 'k' }),
    );
    const before = await kubedbVersion('sample-mariadb');
    const read = await store.kubeDbAppBinding(NS, 'sample-mariadb');
    assert.ok(read);
    assert.equal(read.kind, 'AppBinding');
    assert.deepEqual(validateResource(read), []);
    assert.deepEqual(read.spec, {
      clientConfig: { service: { name: 'sample-mariadb', port: 3306, scheme: 'mysql', path: '/' } },
      secret: { name: 'sample-mariadb-auth' }, type: 'kubedb.com/mariadb', version: '10.5.8', tls: { caSecretName: 'sample-mariadb-client-cert' },
    });
    // Ours are another collection: KubeDB's are not listed, got or served as sidestash.io AppBindings.
    assert.equal(await store.get('AppBinding', NS, 'sample-mariadb'), undefined);

    const a = await backupAssignment(store, session('early'), Date.now());
    assert.deepEqual(a.database, { username: 'root', password: 's3cret', host: 'sample-mariadb.demo.svc', port: 3306, caCert: CA });
    assert.equal(a.target, `${NS}/sample-mariadb`);
    assert.equal(await kubedbVersion('sample-mariadb'), before, "KubeDB's AppBinding is never written");
  });

  it("without apiVersion or with appcatalog's: KubeDB's when no sidestash.io AppBinding has the name, ours when one has; sidestash.io/v1: ours only", async () => {
    await apply(
      config('implicit', { name: 'sample-mariadb' }),
      config('explicit-kubedb', { apiVersion: 'appcatalog.appscode.com/v1alpha1', name: 'sample-mariadb' }),
      config('explicit-ours', { apiVersion: 'sidestash.io/v1', name: 'sample-mariadb' }),
    );
    await seen('BackupConfiguration', 'explicit-ours');
    assert.equal((await backupAssignment(store, session('implicit'), Date.now())).database.host, 'sample-mariadb.demo.svc');
    await assert.rejects(backupAssignment(store, session('explicit-ours'), Date.now()), /AppBinding demo\/sample-mariadb, which does not exist/);

    await apply(
      { apiVersion: 'sidestash.io/v1', kind: 'AppBinding', metadata: { name: 'sample-mariadb', namespace: NS }, spec: { clientConfig: { host: 'ours.example', port: 3307 }, secret: { name: 'sample-mariadb-auth' } } },
    );
    await seen('AppBinding', 'sample-mariadb');
    assert.equal((await backupAssignment(store, session('implicit'), Date.now())).database.host, 'ours.example');
    assert.equal((await backupAssignment(store, session('explicit-ours'), Date.now())).database.host, 'ours.example');
    assert.equal((await backupAssignment(store, session('explicit-kubedb'), Date.now())).database.host, 'ours.example', "Stash's YAML with its AppBinding converted to sidestash.io keeps appcatalog in target.ref");
    await kube.kubectlOk(['-n', NS, 'delete', 'appbindings.sidestash.io', 'sample-mariadb']);
    await waitFor('the store to forget ours', 30_000, async () => ((await store.get('AppBinding', NS, 'sample-mariadb')) ? undefined : true));
    assert.equal((await backupAssignment(store, session('explicit-kubedb'), Date.now())).database.host, 'sample-mariadb.demo.svc');
  });

  it('a RestoreSession targets a KubeDB AppBinding the same way', async () => {
    const restore: Resource<RestoreSessionSpec, unknown> = {
      apiVersion: 'sidestash.io/v1', kind: 'RestoreSession', metadata: { name: 'r1', namespace: NS },
      spec: { repository: { name: 'repo' }, target: { ref: { apiVersion: 'appcatalog.appscode.com/v1alpha1', kind: 'AppBinding', name: 'sample-mariadb' }, rules: [{ snapshots: ['latest'] }] } },
    };
    const a = await restoreAssignment(store, restore, Date.now());
    assert.equal(a.database.host, 'sample-mariadb.demo.svc');
    assert.equal(a.database.port, 3306);
  });

  it('a KubeDB AppBinding of another database (kubedb.com/postgres) fails the session naming spec.type', async () => {
    await apply(kubedbAppBinding('sample-postgres', 'kubedb.com/postgres'), secret('sample-postgres-auth', { username: 'postgres', password: 'x' }), config('pg', { apiVersion: 'appcatalog.appscode.com/v1alpha1', name: 'sample-postgres' }));
    await seen('BackupConfiguration', 'pg');
    await assert.rejects(backupAssignment(store, session('pg'), Date.now()), (err) => isSidestashError(err, ErrorCodes.INVALID_CONFIG) && /spec\.type: .*kubedb\.com\/postgres/.test((err as Error).message));
  });

  it("without RBAC on KubeDB's AppBindings the read is FORBIDDEN naming the chart value; get alone is enough", async () => {
    await kube.kubectlOk(['-n', NS, 'create', 'serviceaccount', 'ctl']);
    const token = (await kube.kubectlOk(['-n', NS, 'create', 'token', 'ctl'])).trim();
    const limited = new KubeClient({ ...loadKubeConnection({ SIDESTASH_KUBECONFIG: kube.kubeconfig }), credentials: { kind: 'token', token } });
    const limitedStore = new KubernetesStore({ client: limited, log: quiet, namespaces: [NS] });
    try {
      await assert.rejects(limitedStore.kubeDbAppBinding(NS, 'sample-mariadb'), (err) => isSidestashError(err, ErrorCodes.FORBIDDEN) && /kubernetes\.kubedbAppBindings/.test((err as Error).message));
      await kube.kubectlOk(['-n', NS, 'create', 'role', 'kubedb-get', '--verb=get', '--resource=appbindings.appcatalog.appscode.com']);
      await kube.kubectlOk(['-n', NS, 'create', 'rolebinding', 'kubedb-get', '--role=kubedb-get', `--serviceaccount=${NS}:ctl`]);
      const read = await waitFor('RBAC to allow the get', 30_000, () => limitedStore.kubeDbAppBinding(NS, 'sample-mariadb'));
      assert.equal(read.spec.secret.name, 'sample-mariadb-auth');
    } finally {
      limitedStore.close();
      await limited.close();
    }
  });

  it('another apiVersion in target.ref is refused naming the field', async () => {
    await apply(config('other-group', { apiVersion: 'stash.appscode.com/v1beta1', name: 'sample-mariadb' }));
    await seen('BackupConfiguration', 'other-group');
    await assert.rejects(backupAssignment(store, session('other-group'), Date.now()), /spec\.target\.ref\.apiVersion/);
  });
});
