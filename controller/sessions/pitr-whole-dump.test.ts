// Found by an adversarial review of issue 14: a point-in-time restore loads the newest dump with coordinates and
// replays the whole server's binary log over it (README: "restores the whole server's binlog").
// A configuration whose dumpArgs select part of the server (--databases, --ignore-table-data,
// --where, --no-data) still records coordinates, and nothing refuses binlog.enabled with them:
// a point-in-time restore then starts from a partial dump, and every INSERT the binlog holds for
// the rows the dump left out succeeds while the rows themselves are gone (rows dropped by --where
// or --ignore-table-data come back only if they were inserted after the dump): data loss reported
// as success.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { validateResource } from '../resources/validate.ts';
import type { BackupSessionSpec, Resource } from '../resources/types.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { upsert } from '../store/upsert.ts';
import { backupAssignment } from './assignment.ts';

const NS = 'edge';
const meta = (name: string) => ({ name, namespace: NS });
const store = new SqliteStore(':memory:');
const session = (cfg: string): Resource<BackupSessionSpec, unknown> => ({ apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: meta(`s-${cfg}`), spec: { invoker: { kind: 'BackupConfiguration', name: cfg } } });
const cfg = (name: string, dumpArgs: string[]) => ({
  apiVersion: 'sidestash.io/v1',
  kind: 'BackupConfiguration',
  metadata: meta(name),
  spec: { schedule: '0 1 * * *', repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', name: 'db' } }, dumpArgs, binlog: { enabled: true } },
});
const PARTIAL: [string, string[]][] = [
  ['one-db', ['--single-transaction', '--databases', 'shop']],
  ['filtered', ['--single-transaction', '--all-databases', '--where=id > 1000']],
  ['no-big-data', ['--single-transaction', '--all-databases', '--ignore-table-data=shop.big']],
];

before(async () => {
  for (const doc of [
    { kind: 'Secret', metadata: meta('repo-secret'), spec: { stringData: { RESTIC_PASSWORD: 'pw' } } },
    { kind: 'Secret', metadata: meta('db-auth'), spec: { stringData: { username: 'root', password: 'p' } } },
    { kind: 'Repository', metadata: meta('repo'), spec: { backend: { local: { mountPath: '/backup' }, storageSecretName: 'repo-secret' } } },
    { kind: 'AppBinding', metadata: meta('db'), spec: { clientConfig: { url: 'tcp(db:3306)/' }, secret: { name: 'db-auth' } } },
  ]) await upsert(store, { apiVersion: 'sidestash.io/v1', ...doc } as Resource);
  for (const [name, args] of PARTIAL) await upsert(store, cfg(name, args) as Resource);
});

describe('binlog archiving with a partial dump', () => {
  for (const [name, args] of PARTIAL) {
    it(`a configuration dumping part of the server (${args.slice(1).join(' ')}) is refused, or its dumps record no coordinates`, async () => {
      const refused = validateResource(cfg(name, args)).length > 0;
      const records = (await backupAssignment(store, session(name), Date.now())).recordBinlogCoordinates === true;
      assert.ok(refused || !records, 'accepted, and its dumps are starting points of point-in-time restores of the whole server');
    });
  }
});
