// spec.dumper and spec.parallel of a BackupConfiguration: checked on apply (the schema's enum and
// bounds, the parallel dumper's dumpArgs allow-list, common/parallel-dump-args.ts) and carried to
// the agent in the assignment.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backupAssignment } from '../sessions/assignment.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { upsert } from '../store/upsert.ts';
import type { BackupSessionSpec, Resource } from './types.ts';
import { validateResource } from './validate.ts';

const NS = 'edge';
const meta = (name: string) => ({ name, namespace: NS });
const spec = (extra: Record<string, unknown>) => ({ schedule: '0 1 * * *', repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', name: 'db' } }, ...extra });
const cfg = (extra: Record<string, unknown>, name = 'c') => ({ apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: meta(name), spec: spec(extra) });

describe('spec.dumper and spec.parallel', () => {
  it('accepts the parallel dumper with the default arguments, named databases and --where', () => {
    assert.deepEqual(validateResource(cfg({ dumper: 'parallel' })), []);
    assert.deepEqual(validateResource(cfg({ dumper: 'parallel', parallel: 4, dumpArgs: ['--databases', 'shop', 'crm', '--where=id > 100'] })), []);
    assert.deepEqual(validateResource(cfg({ dumper: 'mariadb-dump', dumpArgs: ['shop', 'orders'] })), []);
  });

  const refused: [string, Record<string, unknown>, string, RegExp][] = [
    ['an unknown dumper', { dumper: 'mydumper' }, 'spec.dumper', /./],
    ['no connections', { dumper: 'parallel', parallel: 0 }, 'spec.parallel', /./],
    ['too many connections', { dumper: 'parallel', parallel: 17 }, 'spec.parallel', /./],
    ['parallel without the parallel dumper', { parallel: 4 }, 'spec.parallel', /spec.dumper: parallel/],
    ['a table list', { dumper: 'parallel', dumpArgs: ['shop', 'orders'] }, 'spec.dumpArgs[1]', /list of tables/],
    ['--no-data', { dumper: 'parallel', dumpArgs: ['--all-databases', '--no-data'] }, 'spec.dumpArgs[1]', /--no-data is not supported/],
    ['--ignore-table', { dumper: 'parallel', dumpArgs: ['--all-databases', '--ignore-table=shop.x'] }, 'spec.dumpArgs[1]', /--ignore-table is not supported/],
    ['an argument off the general allow-list', { dumper: 'parallel', dumpArgs: ['--all-databases', '--result-file=/etc/passwd'] }, 'spec.dumpArgs[1]', /./],
  ];
  for (const [name, extra, field, message] of refused) {
    it(`refuses ${name}`, () => {
      const errors = validateResource(cfg(extra));
      assert.ok(errors.some((e) => e.field === field && message.test(e.message)), JSON.stringify(errors));
    });
  }

  it('travels to the agent: dumper and connections (2 by default); absent for mariadb-dump', async () => {
    const store = new SqliteStore(':memory:');
    for (const doc of [
      { kind: 'Secret', metadata: meta('repo-secret'), spec: { stringData: { RESTIC_PASSWORD: 'pw' } } },
      { kind: 'Secret', metadata: meta('db-auth'), spec: { stringData: { username: 'root', password: 'p' } } },
      { kind: 'Repository', metadata: meta('repo'), spec: { backend: { local: { mountPath: '/backup' }, storageSecretName: 'repo-secret' } } },
      { kind: 'AppBinding', metadata: meta('db'), spec: { clientConfig: { url: 'tcp(db:3306)/' }, secret: { name: 'db-auth' } } },
      { kind: 'BackupConfiguration', metadata: meta('four'), spec: spec({ dumper: 'parallel', parallel: 4 }) },
      { kind: 'BackupConfiguration', metadata: meta('default'), spec: spec({ dumper: 'parallel' }) },
      { kind: 'BackupConfiguration', metadata: meta('classic'), spec: spec({}) },
    ]) await upsert(store, { apiVersion: 'sidestash.io/v1', ...doc } as Resource);
    const session = (c: string): Resource<BackupSessionSpec, unknown> => ({ apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: meta(`s-${c}`), spec: { invoker: { kind: 'BackupConfiguration', name: c } } });
    const four = await backupAssignment(store, session('four'), Date.now());
    assert.deepEqual([four.dumper, four.parallel], ['parallel', 4]);
    const dflt = await backupAssignment(store, session('default'), Date.now());
    assert.deepEqual([dflt.dumper, dflt.parallel], ['parallel', 2]);
    const classic = await backupAssignment(store, session('classic'), Date.now());
    assert.equal('dumper' in classic || 'parallel' in classic, false);
  });
});
