import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { warningHeaderValue } from '../api/warning-header.ts';
import { missingReferences, referencesOf, usersOf } from './references.ts';
import type { Resource } from './types.ts';

const res = (kind: Resource['kind'], name: string, spec: Record<string, unknown>, namespace = 'default'): Resource => ({ apiVersion: 'sidestash.io/v1', kind, metadata: { name, namespace }, spec });
const repo = res('Repository', 'repo', { backend: { local: { path: '/r' }, storageSecretName: 'repo-secret' } });
const db = res('AppBinding', 'db', { clientConfig: { host: 'h' }, secret: { name: 'db-secret' }, tls: { caSecretName: 'ca' } });
const cfg = res('BackupConfiguration', 'nightly', { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } });

describe('references', () => {
  it('each kind names what it refers to, with the field', () => {
    const table: [Resource, string[]][] = [
      [repo, ['Secret repo-secret spec.backend.storageSecretName']],
      [db, ['Secret db-secret spec.secret.name', 'Secret ca spec.tls.caSecretName']],
      [cfg, ['Repository repo spec.repository.name', 'AppBinding db spec.target.ref.name']],
      [res('RestoreSession', 'r', { repository: { name: 'repo' }, target: { ref: { name: 'db' } } }), ['Repository repo spec.repository.name', 'AppBinding db spec.target.ref.name']],
      [res('Secret', 's', { stringData: { a: 'b' } }), []],
      [res('BackupSession', 'b', { invoker: { kind: 'BackupConfiguration', name: 'nightly' } }), []],
      // An invalid spec yields what it can, never throws.
      [res('BackupConfiguration', 'bad', { repository: 'repo', target: { ref: { name: 7 } } }), []],
    ];
    for (const [r, want] of table) assert.deepEqual(referencesOf(r).map((x) => `${x.kind} ${x.name} ${x.field}`), want, r.metadata.name);
  });

  it('missing references include those of the Repository and AppBinding named, with via', () => {
    const table: [string, Resource[], string[]][] = [
      ['all there', [repo, db, res('Secret', 'repo-secret', {}), res('Secret', 'db-secret', {}), res('Secret', 'ca', {})], []],
      ['nothing there', [], ['Repository repo', 'AppBinding db']],
      ['secrets gone', [repo, db, res('Secret', 'db-secret', {})], ['Secret repo-secret via Repository repo', 'Secret ca via AppBinding db']],
    ];
    for (const [what, present, want] of table) {
      const got = missingReferences(cfg, (kind, name) => present.find((p) => p.kind === kind && p.metadata.name === name));
      assert.deepEqual(got.map((m) => `${m.kind} ${m.name}${m.via ? ` via ${m.via}` : ''}`), want, what);
    }
  });

  it('users are the resources of the same namespace that name it directly', () => {
    const elsewhere = res('Repository', 'repo2', { backend: { storageSecretName: 'repo-secret' } }, 'other');
    assert.deepEqual(usersOf('Secret', 'default', 'repo-secret', [repo, db, cfg, elsewhere]).map((u) => `${u.kind} ${u.name}`), ['Repository repo']);
    assert.deepEqual(usersOf('Repository', 'default', 'repo', [repo, db, cfg]).map((u) => `${u.kind} ${u.name} ${u.field}`), ['BackupConfiguration nightly spec.repository.name']);
    assert.deepEqual(usersOf('Secret', 'default', 'unused', [repo, db, cfg]), []);
  });

  it('a Warning header value is 299 with the text quoted, escaped and ASCII only', () => {
    assert.equal(warningHeaderValue('plain'), '299 - "plain"');
    assert.equal(warningHeaderValue('a "b" \\ c'), '299 - "a \\"b\\" \\\\ c"');
    assert.equal(warningHeaderValue('line\r\nbreak ü'), '299 - "line??break ?"');
  });
});
