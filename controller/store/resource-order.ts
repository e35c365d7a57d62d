// Creation order, the one ordering of resources the controller relies on (the claim queue,
// "newest" sessions): creationTimestamp, then namespace and name as a stable tiebreak. Both
// stores provide these fields; resourceVersion is opaque and never ordered (Kubernetes' rule).
// Timestamps are compared as instants, so that "2026-03-01T10:00:00Z" (Kubernetes, whole
// seconds) and "2026-03-01T10:00:00.000Z" (the controller's clock) are the same time.
import type { Resource } from '../resources/types.ts';

type Ordered = Pick<Resource<unknown, unknown>, 'metadata'>;

function instant(r: Ordered): number {
  const ms = Date.parse(r.metadata.creationTimestamp ?? '');
  return Number.isFinite(ms) ? ms : 0;
}

/** Oldest first; for Array.prototype.sort. */
export function byCreation(a: Ordered, b: Ordered): number {
  return instant(a) - instant(b) || a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name);
}

/** Newest first. */
export function newestFirst(a: Ordered, b: Ordered): number {
  return byCreation(b, a);
}
