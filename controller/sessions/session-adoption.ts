// Sessions created outside the controller (Kubernetes mode: `kubectl apply` of a BackupSession
// or RestoreSession, as Stash's instant backups and restores are) arrive without a status. The
// leader adopts each: it writes status.phase Pending through /status with the version it read,
// as the HTTP API's apply does on create, so that the claim queue, the pending timeout and
// kubectl get see it. A write that loses to another (CONFLICT) is left: the watch brings the
// session again if it still needs it.
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import type { Resource, SessionStatus } from '../resources/types.ts';
import type { ResourceStore } from '../store/resource-store.ts';

export const SESSION_KINDS = ['BackupSession', 'RestoreSession'] as const;

export function needsAdoption(r: Pick<Resource<unknown, unknown>, 'kind' | 'status'>): boolean {
  if (!(SESSION_KINDS as readonly string[]).includes(r.kind)) return false;
  const phase: unknown = (r.status as { phase?: unknown } | undefined)?.phase;
  return typeof phase !== 'string' || phase === '';
}

/** Adopts one session; true when this call wrote its Pending status. */
export async function adoptSession(store: ResourceStore, r: Resource<unknown, unknown>): Promise<boolean> {
  if (!needsAdoption(r)) return false;
  try {
    await store.updateStatus({ ...r, status: { phase: 'Pending' } satisfies SessionStatus }, { ifVersion: r.metadata.resourceVersion! });
    return true;
  } catch (err) {
    if (isSidestashError(err, ErrorCodes.CONFLICT) || isSidestashError(err, ErrorCodes.NOT_FOUND)) return false;
    throw err;
  }
}

/** Adopts every session without a status (a new leader's first pass). */
export async function adoptSessions(store: ResourceStore): Promise<number> {
  let adopted = 0;
  for (const kind of SESSION_KINDS) for (const s of await store.list(kind)) if (await adoptSession(store, s)) adopted++;
  return adopted;
}
