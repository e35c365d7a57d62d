// KubeDB's AppBindings as targets (kubedb-appbinding.ts): the resolution rule, the type rule
// and the allow-list mapping on tables; the mapped documents pass the HTTP API's validation.
// On a real API server: test/kube-kubedb-appbinding.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appBindingAddress } from '../resources/stash-spelling.ts';
import { validateResource } from '../resources/validate.ts';
import { databaseTypeProblem, fromKubeDbAppBinding, targetSource } from './kubedb-appbinding.ts';

describe('targetSource', () => {
  const table: [string, unknown, boolean, string | undefined, RegExp?][] = [
    ['no apiVersion, ours exists', undefined, true, 'sidestash'],
    ['no apiVersion, ours does not exist', undefined, false, 'kubedb'],
    ['sidestash.io/v1, ours exists', 'sidestash.io/v1', true, 'sidestash'],
    ['sidestash.io/v1, ours does not exist (reported missing, never KubeDB\'s)', 'sidestash.io/v1', false, 'sidestash'],
    ["KubeDB's apiVersion, ours of that name exists too (Stash's YAML with the AppBinding converted)", 'appcatalog.appscode.com/v1alpha1', true, 'sidestash'],
    ["KubeDB's", 'appcatalog.appscode.com/v1alpha1', false, 'kubedb'],
    ['another version of the group', 'appcatalog.appscode.com/v1', false, undefined, /spec\.target\.ref\.apiVersion/],
    ['another group', 'stash.appscode.com/v1beta1', true, undefined, /spec\.target\.ref\.apiVersion/],
    ['empty', '', false, undefined, /spec\.target\.ref\.apiVersion/],
    ['not a string', 1, false, undefined, /spec\.target\.ref\.apiVersion/],
  ];
  for (const [name, apiVersion, ours, want, problem] of table) {
    it(name, () => {
      const got = targetSource(apiVersion === undefined ? {} : { apiVersion }, ours);
      assert.equal(got.source, want);
      if (problem) assert.match(`${got.problem?.field}: ${got.problem?.message}`, problem);
      else assert.equal(got.problem, undefined);
    });
  }
});

describe('databaseTypeProblem', () => {
  const table: [unknown, boolean][] = [
    [undefined, true], ['kubedb.com/mariadb', true], ['kubedb.com/mysql', true], ['mariadb', true], ['MySQL', true], ['example.org/mariadb', true],
    ['kubedb.com/postgres', false], ['kubedb.com/mongodb', false], ['postgres', false], ['kubedb.com/mariadb-x', false], ['', false], [3, false], ['/mariadb', false],
  ];
  for (const [type, ok] of table) {
    it(JSON.stringify(type), () => {
      const p = databaseTypeProblem(type);
      if (ok) assert.equal(p, undefined);
      else assert.equal(p?.field, 'spec.type');
    });
  }
});

/** An AppBinding as KubeDB's operator writes it for a MariaDB (kmodules.xyz/custom-resources appcatalog/v1alpha1). */
const kubedb = {
  apiVersion: 'appcatalog.appscode.com/v1alpha1', kind: 'AppBinding',
  metadata: { name: 'sample-mariadb', namespace: 'demo', uid: 'u1', resourceVersion: '7', labels: { 'app.kubernetes.io/instance': 'sample-mariadb' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' }, ownerReferences: [{ kind: 'MariaDB' }] },
  spec: {
    appRef: { apiGroup: 'kubedb.com', kind: 'MariaDB', name: 'sample-mariadb', namespace: 'demo' },
    clientConfig: { service: { name: 'sample-mariadb', path: '/', port: 3306, scheme: 'mysql', query: 'tls=custom' }, url: 'tcp(sample-mariadb.demo.svc:3306)/?tls=custom', caBundle: 'LS0t' },
    parameters: { apiVersion: 'config.kubedb.com/v1alpha1', kind: 'MariaDBConfiguration', stash: { addon: { backupTask: { name: 'mariadb-backup-10.5.8' } } } },
    secret: { name: 'sample-mariadb-auth' },
    secretTransforms: [{ renameKey: { from: 'user', to: 'username' } }],
    tlsSecret: { name: 'sample-mariadb-client-cert' },
    type: 'kubedb.com/mariadb',
    version: '10.5.8',
  },
};

describe('fromKubeDbAppBinding', () => {
  it('takes over the allow-listed fields only, as our kind AppBinding', () => {
    assert.deepEqual(fromKubeDbAppBinding(kubedb), {
      apiVersion: 'sidestash.io/v1', kind: 'AppBinding',
      metadata: { name: 'sample-mariadb', namespace: 'demo', uid: 'u1', resourceVersion: '7', labels: { 'app.kubernetes.io/instance': 'sample-mariadb' } },
      spec: {
        clientConfig: { service: { name: 'sample-mariadb', port: 3306, scheme: 'mysql', path: '/' } },
        secret: { name: 'sample-mariadb-auth' },
        type: 'kubedb.com/mariadb', version: '10.5.8',
        tls: { caSecretName: 'sample-mariadb-client-cert' },
      },
    });
  });

  it('is accepted by the HTTP API\'s validation and gives the address from the service', () => {
    const doc = fromKubeDbAppBinding(kubedb);
    assert.deepEqual(validateResource(doc), []);
    assert.deepEqual(appBindingAddress(doc.spec.clientConfig, 'demo').address, { host: 'sample-mariadb.demo.svc', port: 3306 });
  });

  const table: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['url without a service', { clientConfig: { url: 'tcp(db.demo.svc:3306)/' }, secret: { name: 's' } }, { clientConfig: { url: 'tcp(db.demo.svc:3306)/' }, secret: { name: 's' } }],
    ['an upper-case scheme is lowered; an unknown scheme and path are dropped', { clientConfig: { service: { name: 'db', scheme: 'MySQL', path: '/x' } }, secret: { name: 's' } }, { clientConfig: { service: { name: 'db', scheme: 'mysql' } }, secret: { name: 's' } }],
    ['unknown scheme dropped', { clientConfig: { service: { name: 'db', scheme: 'https' } }, secret: { name: 's' } }, { clientConfig: { service: { name: 'db' } }, secret: { name: 's' } }],
    ['no clientConfig, no secret', { appRef: {} }, { clientConfig: {} }],
    ['non-string fields ignored', { clientConfig: { url: 3 }, secret: { name: 1 }, type: {}, version: 5, tlsSecret: 'x' }, { clientConfig: {} }],
    ['secret: only the name', { clientConfig: { url: 'tcp(db)/' }, secret: { name: 's', namespace: 'other', extra: 1 } }, { clientConfig: { url: 'tcp(db)/' }, secret: { name: 's' } }],
  ];
  for (const [name, spec, want] of table) {
    it(name, () => assert.deepEqual(fromKubeDbAppBinding({ metadata: { name: 'a', namespace: 'demo' }, spec }).spec, want));
  }

  it('a spec that is not an object reads as an empty one', () => {
    assert.deepEqual(fromKubeDbAppBinding({ metadata: { name: 'a', namespace: 'demo' }, spec: 'x' }).spec, { clientConfig: {} });
  });
});
