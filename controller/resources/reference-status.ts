// Keeps status.missingReferences current: recomputed for a namespace's referring resources on
// every apply and delete (and at start), so that a configuration shows a Secret deleted under
// it, and stops showing a Repository once it is created. Finished sessions keep what they had.
import { isFinalPhase } from '../../common/protocol.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { retryOnConflict } from '../store/retry-on-conflict.ts';
import { REFERRING_KINDS, missingReferences, usersOf } from './references.ts';
import type { MissingReference, ReferencedKind, ReferenceUser } from './references.ts';
import type { Resource } from './types.ts';

type Status = Record<string, unknown> & { missingReferences?: MissingReference[]; phase?: string };

/** The missing references of `r` as the store holds it now. */
export async function missingReferencesIn(store: ResourceStore, r: Pick<Resource, 'kind' | 'spec' | 'metadata'>): Promise<MissingReference[]> {
  // missingReferences looks up synchronously, references of references too: read what it asks
  // for, and ask again until it asks for nothing new.
  const read = new Map<string, Resource | undefined>();
  for (;;) {
    const wanted: [Resource['kind'], string][] = [];
    const out = missingReferences(r, (kind, name) => {
      const key = `${kind}/${name}`;
      if (!read.has(key)) wanted.push([kind, name]);
      return read.get(key);
    });
    if (wanted.length === 0) return out;
    for (const [kind, name] of wanted) read.set(`${kind}/${name}`, kind === 'Secret' ? await secretIfExists(store, r.metadata.namespace, name) : await store.get(kind, r.metadata.namespace, name));
  }
}

/** A stand-in for a Secret that exists: a Secret names nothing, so its existence is all that counts, and asking only that reads no value. */
async function secretIfExists(store: ResourceStore, namespace: string, name: string): Promise<Resource | undefined> {
  return (await store.exists('Secret', namespace, name)) ? { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, spec: {} } as Resource : undefined;
}

/** The status of `r` with status.missingReferences set to `missing` (undefined: no status left). */
function statusWith(status: Status | undefined, missing: MissingReference[]): Status | undefined {
  const { missingReferences: _old, ...rest } = status ?? {};
  const next: Status = missing.length > 0 ? { ...rest, missingReferences: missing } : rest;
  return Object.keys(next).length === 0 ? undefined : next;
}

function isLiveSession(r: Resource): boolean {
  return r.kind !== 'RestoreSession' || !isFinalPhase((r.status as Status | undefined)?.phase);
}

/** Rewrites status.missingReferences where it changed (a status write each, retried on conflict); returns how many resources it updated. */
export async function refreshMissingReferences(store: ResourceStore, namespace?: string): Promise<number> {
  let updated = 0;
  for (const kind of REFERRING_KINDS) {
    for (const listed of await store.list<Record<string, unknown>, Status>(kind, namespace === undefined ? {} : { namespace })) {
      const wrote = await retryOnConflict(async () => {
        const r = await store.get<Record<string, unknown>, Status>(kind, listed.metadata.namespace, listed.metadata.name);
        if (!r || !isLiveSession(r as Resource)) return false;
        const missing = await missingReferencesIn(store, r as Resource);
        if (JSON.stringify(r.status?.missingReferences ?? []) === JSON.stringify(missing)) return false;
        const next = { ...r };
        const status = statusWith(r.status, missing);
        if (status === undefined) delete next.status;
        else next.status = status;
        await store.updateStatus(next, { ifVersion: r.metadata.resourceVersion! });
        return true;
      });
      if (wrote) updated++;
    }
  }
  return updated;
}

/** Who names `kind`/`name` and would break if it went: Repositories and AppBindings name Secrets; configurations and unfinished restores name Repositories. */
export async function referenceUsers(store: ResourceStore, kind: ReferencedKind, namespace: string, name: string): Promise<ReferenceUser[]> {
  const candidates = (await Promise.all(REFERRING_KINDS.map((k) => store.list(k, { namespace }) as Promise<Resource[]>))).flat().filter(isLiveSession);
  return usersOf(kind, namespace, name, candidates);
}
