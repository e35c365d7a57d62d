// Test fixture: the resources one BackupConfiguration needs to run a session (Secrets, a local
// Repository, a socket AppBinding, the configuration "nightly" in namespace default), for the
// session manager's unit tests. Not imported by the controller.
import type { Resource } from '../resources/types.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { upsert } from '../store/upsert.ts';

export async function seedNightly(store: ResourceStore, configuration: Record<string, unknown> = {}): Promise<void> {
  const meta = (name: string) => ({ name, namespace: 'default' });
  for (const doc of [
    { kind: 'Secret', metadata: meta('repo-secret'), spec: { stringData: { RESTIC_PASSWORD: 'pw' } } },
    { kind: 'Secret', metadata: meta('db-secret'), spec: { stringData: { username: 'u', password: 'p' } } },
    { kind: 'Repository', metadata: meta('repo'), spec: { backend: { local: { path: '/tmp/repo' }, storageSecretName: 'repo-secret' } } },
    { kind: 'AppBinding', metadata: meta('db'), spec: { clientConfig: { socket: '/run/mysqld/mysqld.sock' }, secret: { name: 'db-secret' } } },
    { kind: 'BackupConfiguration', metadata: meta('nightly'), spec: { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } }, ...configuration } },
  ]) await upsert(store, { apiVersion: 'sidestash.io/v1', ...doc } as Resource);
}
