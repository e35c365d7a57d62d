// Stash's YAML (group changed) becomes the assignment an agent runs: KubeDB's AppBinding gives
// host <service>.<namespace>.svc and the service's port, an S3 endpoint without a scheme is https,
// a RestoreSession's rules give the snapshot and source host. A spec the API server stored
// without the HTTP API's checks (both spellings at once) fails the session, naming the field.
import assert from 'node:assert/strict';
import { DEFAULT_DUMP_ARGS } from '../resources/types.ts';
import { before, describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import type { BackupSessionSpec, Resource, RestoreSessionSpec } from '../resources/types.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { upsert } from '../store/upsert.ts';
import { backupAssignment, restoreAssignment } from './assignment.ts';

const NS = 'shop';
const T0 = Date.parse('2026-03-01T10:00:00Z');
const meta = (name: string) => ({ name, namespace: NS });
const store = new SqliteStore(':memory:');

before(async () => {
  for (const doc of [
    { kind: 'Secret', metadata: meta('s3-secret'), spec: { stringData: { RESTIC_PASSWORD: 'pw', AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'key' } } },
    { kind: 'Secret', metadata: meta('sample-mariadb-auth'), spec: { stringData: { username: 'root', password: 'p' } } },
    { kind: 'Repository', metadata: meta('s3-repo'), spec: { backend: { s3: { endpoint: 's3.amazonaws.com', bucket: 'stash-demo', prefix: '/mariadb/sample-mariadb' }, storageSecretName: 's3-secret' } } },
    { kind: 'AppBinding', metadata: meta('sample-mariadb'), spec: { clientConfig: { service: { name: 'sample-mariadb', path: '/', port: 3306, scheme: 'mysql' }, url: 'tcp(sample-mariadb.demo.svc:3306)/' }, secret: { name: 'sample-mariadb-auth' }, type: 'kubedb.com/mariadb', version: '10.5.8' } },
    { kind: 'AppBinding', metadata: meta('by-url'), spec: { clientConfig: { url: 'tcp(db.example.com:3307)/' }, secret: { name: 'sample-mariadb-auth' } } },
    // As the API server stores it: its schema cannot refuse both spellings at once.
    { kind: 'AppBinding', metadata: meta('both'), spec: { clientConfig: { host: 'db', service: { name: 'sample-mariadb' } }, secret: { name: 'sample-mariadb-auth' } } },
    { kind: 'BackupConfiguration', metadata: meta('sample-mariadb-backup'), spec: { schedule: '*/5 * * * *', task: { name: 'mariadb-backup-10.5.8' }, repository: { name: 's3-repo' }, target: { ref: { apiVersion: 'appcatalog.appscode.com/v1alpha1', kind: 'AppBinding', name: 'sample-mariadb' } }, retentionPolicy: { name: 'keep-last-5', keepLast: 5, prune: true }, timeOut: '1h30m0s' } },
  ]) await upsert(store, { apiVersion: 'sidestash.io/v1', ...doc } as Resource);
});

const backupSession: Resource<BackupSessionSpec, unknown> = { apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: meta('instant-backup'), spec: { invoker: { apiGroup: 'stash.appscode.com', kind: 'BackupConfiguration', name: 'sample-mariadb-backup' } } };
const restoreSession = (target: string, spec: Partial<RestoreSessionSpec>, rules?: RestoreSessionSpec['target']['rules']): Resource<RestoreSessionSpec, unknown> => ({
  apiVersion: 'sidestash.io/v1',
  kind: 'RestoreSession',
  metadata: meta('sample-mariadb-restore'),
  spec: { task: { name: 'mariadb-restore-10.5.8' }, repository: { name: 's3-repo' }, target: { ref: { kind: 'AppBinding', name: target }, ...(rules ? { rules } : {}) }, ...spec },
});

describe("Stash's spelling in the session assignment", () => {
  it("a BackupSession of Stash's documents: the service's host and port, the S3 endpoint with https", async () => {
    const a = await backupAssignment(store, backupSession, T0);
    assert.deepEqual({ host: a.database.host, port: a.database.port, socket: a.database.socket }, { host: 'sample-mariadb.shop.svc', port: 3306, socket: undefined });
    assert.equal(a.repository.location, 's3:https://s3.amazonaws.com/stash-demo/mariadb/sample-mariadb');
    assert.equal(a.invoker, 'sample-mariadb-backup');
    assert.equal(a.deadlineMs, T0 + 90 * 60_000, "Stash's timeOut is the session's time limit");
    assert.deepEqual(a.dumpArgs, DEFAULT_DUMP_ARGS, 'the task is ignored: the default dump');
  });

  const restores: [string, string, Partial<RestoreSessionSpec>, RestoreSessionSpec['target']['rules'], { host?: string; port?: number; snapshot: string; sourceHost?: string }][] = [
    ["Stash's rule: latest", 'sample-mariadb', {}, [{ snapshots: ['latest'] }], { host: 'sample-mariadb.shop.svc', port: 3306, snapshot: 'latest' }],
    ["Stash's rule: an id", 'sample-mariadb', {}, [{ snapshots: ['4c1d0e9a'] }], { host: 'sample-mariadb.shop.svc', port: 3306, snapshot: '4c1d0e9a' }],
    ["Stash's rule: a source host, no snapshots", 'sample-mariadb', {}, [{ sourceHost: 'host-0' }], { host: 'sample-mariadb.shop.svc', port: 3306, snapshot: 'latest', sourceHost: 'host-0' }],
    ["sidestash's spelling, to an AppBinding with a url", 'by-url', { snapshot: 'latest', sourceHost: 'host-0' }, undefined, { host: 'db.example.com', port: 3307, snapshot: 'latest', sourceHost: 'host-0' }],
  ];
  for (const [name, target, spec, rules, want] of restores) {
    it(`a RestoreSession, ${name}`, async () => {
      const a = await restoreAssignment(store, restoreSession(target, spec, rules), T0);
      assert.deepEqual({ host: a.database.host, port: a.database.port, snapshot: a.snapshot, sourceHost: a.sourceHost }, { sourceHost: undefined, ...want });
      assert.equal(a.repository.location, 's3:https://s3.amazonaws.com/stash-demo/mariadb/sample-mariadb');
    });
  }

  it('a RestoreSession of tables into another database: the agent gets both', async () => {
    const a = await restoreAssignment(store, restoreSession('sample-mariadb', { snapshot: 'latest', tables: ['shop.orders', 'shop.customers'], targetDatabase: 'shop_restored' }), T0);
    assert.deepEqual({ tables: a.tables, targetDatabase: a.targetDatabase, databaseName: a.databaseName }, { tables: ['shop.orders', 'shop.customers'], targetDatabase: 'shop_restored', databaseName: undefined });
  });

  const refused: [string, Resource<RestoreSessionSpec, unknown>, RegExp][] = [
    ['both spellings of the snapshot', restoreSession('sample-mariadb', { snapshot: 'latest' }, [{ snapshots: ['latest'] }]), /RestoreSession shop\/sample-mariadb-restore: spec\.target\.rules: set the snapshot with sidestash's spec\.snapshot or with Stash's spec\.target\.rules, not both/],
    ['two rules', restoreSession('sample-mariadb', {}, [{ snapshots: ['latest'] }, { snapshots: ['abcd1234'] }]), /spec\.target\.rules: must hold at most one rule/],
    ['a source host with an id', restoreSession('sample-mariadb', {}, [{ sourceHost: 'host-0', snapshots: ['abcd1234'] }]), /spec\.target\.rules\[0\]\.sourceHost: sourceHost selects the newest snapshot of a host/],
    ['both timeout and timeOut', restoreSession('sample-mariadb', { timeout: '1h', timeOut: '1h' }), /RestoreSession shop\/sample-mariadb-restore: spec\.timeOut: set sidestash's spec\.timeout or Stash's spec\.timeOut, not both/],
    ['both spellings of the address', restoreSession('both', {}, [{ snapshots: ['latest'] }]), /AppBinding shop\/both: spec\.clientConfig: set sidestash's host or Stash's service, not both/],
  ];
  for (const [name, session, message] of refused) {
    it(`refuses, as stored without the HTTP API's checks: ${name}`, async () => {
      await assert.rejects(restoreAssignment(store, session, T0), (err: unknown) => {
        assert.ok(isSidestashError(err) && err.code === ErrorCodes.INVALID_CONFIG, String(err));
        assert.match((err as Error).message, message);
        return true;
      });
    });
  }
});
