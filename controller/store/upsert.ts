// Stores a resource as given, whatever is stored now: created, or its spec, metadata and status
// replaced (update, then updateStatus, each with the version just read). Last writer wins: for
// tests and fixtures that set up state, never for controller decisions, which write with the
// version they decided on (retry-on-conflict.ts).
import type { Resource } from '../resources/types.ts';
import type { ResourceStore } from './resource-store.ts';
import { retryOnConflict } from './retry-on-conflict.ts';

export function upsert<S, T>(store: ResourceStore, resource: Resource<S, T>): Promise<Resource<S, T>> {
  return retryOnConflict(async () => {
    const cur = await store.get<S, T>(resource.kind, resource.metadata.namespace, resource.metadata.name);
    if (!cur) return store.create(resource);
    const updated = await store.update(resource, { ifVersion: cur.metadata.resourceVersion! });
    if (JSON.stringify(updated.status) === JSON.stringify(resource.status)) return updated;
    return store.updateStatus({ ...updated, ...(resource.status === undefined ? {} : { status: resource.status }) } as Resource<S, T>, { ifVersion: updated.metadata.resourceVersion! });
  });
}
