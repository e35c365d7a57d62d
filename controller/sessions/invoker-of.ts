// A BackupSession's own BackupConfiguration: the one of that name whose uid the session was
// created for. A configuration deleted and created again under the same name is another
// configuration: its predecessor's sessions (still Running, say) neither count toward its
// status and metrics nor block its schedule. Sessions without a recorded uid (older ones, or
// created through the API) match by name.
import type { BackupConfigurationSpec, BackupSessionSpec, Resource } from '../resources/types.ts';
import type { Store } from '../store/store.ts';

export function isSessionOf(session: { spec: unknown }, cfg: Resource<unknown, unknown>): boolean {
  const uid = (session.spec as BackupSessionSpec).invoker?.uid;
  return uid === undefined || cfg.metadata.uid === undefined || uid === cfg.metadata.uid;
}

export function configurationOf<T = unknown>(store: Store, session: Resource<unknown, unknown>): Resource<BackupConfigurationSpec, T> | undefined {
  const cfg = store.get<BackupConfigurationSpec, T>('BackupConfiguration', session.metadata.namespace, (session.spec as BackupSessionSpec).invoker.name);
  return cfg && isSessionOf(session, cfg) ? cfg : undefined;
}
