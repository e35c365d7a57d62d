// Keeps status.missingReferences current: recomputed for a namespace's referring resources on
// every apply and delete (and at start), so that a configuration shows a Secret deleted under
// it, and stops showing a Repository once it is created. Finished sessions keep what they had.
import { isFinalPhase } from '../../common/protocol.ts';
import type { Store } from '../store/store.ts';
import { REFERRING_KINDS, missingReferences, usersOf } from './references.ts';
import type { MissingReference, ReferencedKind, ReferenceUser } from './references.ts';
import type { Resource } from './types.ts';

type Status = Record<string, unknown> & { missingReferences?: MissingReference[]; phase?: string };

/** The missing references of `r` as the store holds it now. */
export function missingReferencesIn(store: Store, r: Pick<Resource, 'kind' | 'spec' | 'metadata'>): MissingReference[] {
  return missingReferences(r, (kind, name) => store.get(kind, r.metadata.namespace, name));
}

function isLiveSession(r: Resource): boolean {
  return r.kind !== 'RestoreSession' || !isFinalPhase((r.status as Status | undefined)?.phase);
}

/** Rewrites status.missingReferences where it changed; returns how many resources it updated. */
export function refreshMissingReferences(store: Store, namespace?: string): number {
  let updated = 0;
  for (const kind of REFERRING_KINDS) {
    for (const r of store.list<Record<string, unknown>, Status>(kind, namespace)) {
      if (!isLiveSession(r as Resource)) continue;
      const missing = missingReferencesIn(store, r as Resource);
      const had = r.status?.missingReferences ?? [];
      if (JSON.stringify(had) === JSON.stringify(missing)) continue;
      const { missingReferences: _old, ...rest } = r.status ?? {};
      const status: Status = missing.length > 0 ? { ...rest, missingReferences: missing } : rest;
      const next = { ...r, status };
      if (Object.keys(status).length === 0) delete (next as { status?: Status }).status;
      store.put(next);
      updated++;
    }
  }
  return updated;
}

/** Who names `kind`/`name` and would break if it went: Repositories and AppBindings name Secrets; configurations and unfinished restores name Repositories. */
export function referenceUsers(store: Store, kind: ReferencedKind, namespace: string, name: string): ReferenceUser[] {
  const candidates = REFERRING_KINDS.flatMap((k) => store.list(k, namespace) as Resource[]).filter(isLiveSession);
  return usersOf(kind, namespace, name, candidates);
}
