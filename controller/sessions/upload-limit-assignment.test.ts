// A BackupConfiguration's limitUploadKiBps travels to the agent in the assignment (absent
// when the configuration sets none: the agent's own limit, if any, applies alone).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { BackupSessionSpec, Resource } from '../resources/types.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { upsert } from '../store/upsert.ts';
import { backupAssignment } from './assignment.ts';

const NS = 'edge';
const meta = (name: string) => ({ name, namespace: NS });
const store = new SqliteStore(':memory:');
const session = (cfg: string): Resource<BackupSessionSpec, unknown> => ({ apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: meta(`s-${cfg}`), spec: { invoker: { kind: 'BackupConfiguration', name: cfg } } });

before(async () => {
  const cfg = (name: string, extra: Record<string, unknown>) => ({ kind: 'BackupConfiguration', metadata: meta(name), spec: { schedule: '0 1 * * *', repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', name: 'db' } }, ...extra } });
  for (const doc of [
    { kind: 'Secret', metadata: meta('repo-secret'), spec: { stringData: { RESTIC_PASSWORD: 'pw' } } },
    { kind: 'Secret', metadata: meta('db-auth'), spec: { stringData: { username: 'root', password: 'p' } } },
    { kind: 'Repository', metadata: meta('repo'), spec: { backend: { local: { mountPath: '/backup' }, storageSecretName: 'repo-secret' } } },
    { kind: 'AppBinding', metadata: meta('db'), spec: { clientConfig: { url: 'tcp(db:3306)/' }, secret: { name: 'db-auth' } } },
    cfg('limited', { limitUploadKiBps: 512 }),
    cfg('unlimited', {}),
  ]) await upsert(store, { apiVersion: 'sidestash.io/v1', ...doc } as Resource);
});

describe('limitUploadKiBps in the backup assignment', () => {
  it('is carried when the configuration sets it', async () => {
    assert.equal((await backupAssignment(store, session('limited'), Date.now())).limitUploadKiBps, 512);
  });
  it('is absent when it does not', async () => {
    assert.equal('limitUploadKiBps' in (await backupAssignment(store, session('unlimited'), Date.now())), false);
  });
});
