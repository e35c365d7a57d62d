// A RestoreSession's parallel restore options: spec.parallel (1..64), spec.writeBinlog and
// spec.verify are checked by the schema, naming the field, and reach the agent's assignment.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Resource, RestoreSessionSpec } from '../resources/types.ts';
import { validateResource } from '../resources/validate.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { upsert } from '../store/upsert.ts';
import { restoreAssignment } from './assignment.ts';

const NS = 'shop';
const meta = (name: string) => ({ name, namespace: NS });
const store = new SqliteStore(':memory:');
const session = (spec: Partial<RestoreSessionSpec>): Resource<RestoreSessionSpec, unknown> => ({
  apiVersion: 'sidestash.io/v1', kind: 'RestoreSession', metadata: meta('r'),
  spec: { repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', name: 'db' } }, snapshot: 'latest', ...spec },
});

before(async () => {
  for (const doc of [
    { kind: 'Secret', metadata: meta('secret'), spec: { stringData: { RESTIC_PASSWORD: 'pw', username: 'root', password: 'p' } } },
    { kind: 'Repository', metadata: meta('repo'), spec: { backend: { local: { path: '/tmp/repo' }, storageSecretName: 'secret' } } },
    { kind: 'AppBinding', metadata: meta('db'), spec: { clientConfig: { host: 'db', port: 3306 }, secret: { name: 'secret' } } },
  ]) await upsert(store, { apiVersion: 'sidestash.io/v1', ...doc } as Resource);
});

describe('parallel restore options of a RestoreSession', () => {
  it('reach the assignment; absent, the agent decides', async () => {
    const a = await restoreAssignment(store, session({ parallel: 8, writeBinlog: false, verify: 'checksum' }), 0);
    assert.deepEqual({ parallel: a.parallel, writeBinlog: a.writeBinlog, verify: a.verify }, { parallel: 8, writeBinlog: false, verify: 'checksum' });
    const d = await restoreAssignment(store, session({ writeBinlog: true }), 0);
    assert.deepEqual([d.parallel, d.writeBinlog, d.verify], [undefined, undefined, undefined]);
  });
  const refused: [string, Partial<RestoreSessionSpec>, string][] = [
    ['parallel 0', { parallel: 0 }, 'spec.parallel'],
    ['parallel 65', { parallel: 65 }, 'spec.parallel'],
    ['parallel 2.5', { parallel: 2.5 }, 'spec.parallel'],
    ['parallel as a string', { parallel: '4' as unknown as number }, 'spec.parallel'],
    ['writeBinlog not a boolean', { writeBinlog: 'no' as unknown as boolean }, 'spec.writeBinlog'],
    ['verify other than checksum', { verify: 'rows' as unknown as 'checksum' }, 'spec.verify'],
  ];
  for (const [name, spec, field] of refused) {
    it(`refuses ${name}, naming ${field}`, () => {
      const errors = validateResource(session(spec));
      assert.ok(errors.some((e) => e.field === field), JSON.stringify(errors));
    });
  }
  it('accepts 1 and 64', () => {
    assert.deepEqual(validateResource(session({ parallel: 1 })), []);
    assert.deepEqual(validateResource(session({ parallel: 64, writeBinlog: true, verify: 'checksum' })), []);
  });
});
