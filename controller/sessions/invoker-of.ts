// A BackupSession's own BackupConfiguration: the one of that name whose uid the session was
// created for. A configuration deleted and created again under the same name is another
// configuration: its predecessor's sessions (still Running, say) neither count toward its
// status and metrics nor block its schedule. Sessions without a recorded uid (older ones, or
// created through the API) match by name.
import type { BackupConfigurationSpec, BackupSessionSpec, Resource, RestoreSessionSpec } from '../resources/types.ts';
import type { ResourceStore } from '../store/resource-store.ts';

export function isSessionOf(session: { spec: unknown }, cfg: Resource<unknown, unknown>): boolean {
  const uid = (session.spec as BackupSessionSpec).invoker?.uid;
  return uid === undefined || cfg.metadata.uid === undefined || uid === cfg.metadata.uid;
}

export async function configurationOf<T = unknown>(store: ResourceStore, session: Resource<unknown, unknown>): Promise<Resource<BackupConfigurationSpec, T> | undefined> {
  const cfg = await store.get<BackupConfigurationSpec, T>('BackupConfiguration', session.metadata.namespace, (session.spec as BackupSessionSpec).invoker.name);
  return cfg && isSessionOf(session, cfg) ? cfg : undefined;
}

/** A session's AppBinding name; undefined when its BackupConfiguration does not exist (or is another's). */
export async function sessionTarget(store: ResourceStore, s: Resource<unknown, unknown>): Promise<string | undefined> {
  if (s.kind === 'RestoreSession') return (s.spec as RestoreSessionSpec).target.ref.name;
  return (await configurationOf(store, s))?.spec.target.ref.name;
}
