// The field filters of a list (ListOptions.phases, .invoker, .readDataCheckPendingSession): the
// sweeps and the scheduler ask for the Pending or Running sessions, or one configuration's,
// instead of reading every session the history keeps, and a finished session for the Repository
// that holds its read-data marker instead of reading every Repository; and its page (ListOptions.after, .limit: controller/api/list-pages.ts). This is
// what they mean; a store may apply them where it reads (the sqlite store in SQL, so that the
// documents left out are never decoded) or on what it read (Kubernetes).
import type { ListOptions } from './resource-store.ts';

type FieldFilter = 'phases' | 'invoker' | 'readDataCheckPendingSession';

/** Whether `r` passes the field filters of `options` (true when it sets none). */
export function matchesListFields(r: { spec?: unknown; status?: unknown }, options: Pick<ListOptions, FieldFilter>): boolean {
  if (options.phases !== undefined) {
    const phase = (r.status as { phase?: unknown } | undefined)?.phase;
    if (typeof phase !== 'string' || !options.phases.includes(phase)) return false;
  }
  if (options.invoker !== undefined && (r.spec as { invoker?: { name?: unknown } } | undefined)?.invoker?.name !== options.invoker) return false;
  if (options.readDataCheckPendingSession !== undefined && (r.status as { readDataCheckPending?: { session?: unknown } } | undefined)?.readDataCheckPending?.session !== options.readDataCheckPendingSession) return false;
  return true;
}

/** Whether `options` sets a field filter. */
export function hasListFields(options: Pick<ListOptions, FieldFilter>): boolean {
  return options.phases !== undefined || options.invoker !== undefined || options.readDataCheckPendingSession !== undefined;
}

/** A page of `sorted` (namespace, then name, as lists are): the items after `after`, at most `limit`. */
export function pageOf<T extends { metadata: { namespace: string; name: string } }>(sorted: readonly T[], page: Pick<ListOptions, 'after' | 'limit'>): T[] {
  const a = page.after;
  const rest = a ? sorted.filter((r) => r.metadata.namespace > a.namespace || (r.metadata.namespace === a.namespace && r.metadata.name > a.name)) : [...sorted];
  return page.limit === undefined ? rest : rest.slice(0, page.limit);
}
