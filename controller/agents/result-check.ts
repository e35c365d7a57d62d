// The controller checks a reported success before it records it, against the repository
// itself: a Succeeded backup names a snapshot that exists and belongs to the session (host and
// session tag, snapshot-membership.ts); a Succeeded restore names a snapshot that exists and is
// the one the RestoreSession asked for (its id prefix, or the target's host for "latest").
// A result that fails the check fails the session with RESULT_REJECTED; when the repository
// cannot be reached right now, the report is answered 503 so the agent sends it again.
// Repositories are opened once and kept (repository-cache.ts).
import { openBackend } from '../../common/backend/open-backend.ts';
import { ErrorCodes, SidestashError, errorMessage, isSidestashError } from '../../common/errors.ts';
import type { SessionAssignment, SessionResult } from '../../common/protocol.ts';
import { Repository } from '../../common/repository/repository.ts';
import { loadSnapshot } from '../../common/repository/snapshot.ts';
import type { Snapshot } from '../../common/repository/snapshot.ts';
import type { BackupSessionSpec, Resource, RestoreSessionSpec } from '../resources/types.ts';
import { backupAssignment, restoreAssignment } from '../sessions/assignment.ts';
import { snapshotBelongsToSession, snapshotBelongsToTarget } from '../sessions/snapshot-membership.ts';
import { RepositoryCache } from './repository-cache.ts';
import type { ResourceStore } from '../store/resource-store.ts';

export type CheckedResult = { result: SessionResult; rejected?: undefined } | { result: SessionResult; rejected: SidestashError };

function rejection(result: SessionResult, message: string): CheckedResult {
  const error = new SidestashError(ErrorCodes.RESULT_REJECTED, message, { details: { status: 422 } });
  const failed: SessionResult = { ...result, phase: 'Failed', error: { code: ErrorCodes.RESULT_REJECTED, message } };
  delete failed.snapshotId;
  return { result: failed, rejected: error };
}

function unavailable(err: unknown): SidestashError {
  return new SidestashError(ErrorCodes.BACKEND_IO, `cannot check the reported snapshot now: ${errorMessage(err)}`, { retryable: true, cause: err, details: { status: 503 } });
}

/** The controller's kept repositories (repository-cache.ts): one scrypt per repository, not per reported result. */
export const checkedRepositories = new RepositoryCache({ open: async (access) => Repository.open(await openBackend(access.location, access.credentials), access.password) });

async function snapshotOf(a: SessionAssignment, id: string, signal: AbortSignal, repositories: RepositoryCache): Promise<Snapshot | string> {
  for (let attempt = 1; ; attempt++) {
    let repo: Repository;
    try {
      repo = await repositories.get(a.repository);
    } catch (err) {
      if (isSidestashError(err) && err.retryable) throw unavailable(err);
      return `the controller cannot open repository ${a.repositoryName} to check it: ${errorMessage(err)}`;
    }
    try {
      return await loadSnapshot(repo, id, { signal });
    } catch (err) {
      if (isSidestashError(err) && err.retryable) throw unavailable(err);
      // The kept key may be a repository's that was initialised again at the same place: once more, opened afresh.
      if (attempt === 1) {
        repositories.evict(a.repository);
        continue;
      }
      if (isSidestashError(err, ErrorCodes.BACKEND_NOT_FOUND)) return `snapshot ${id} does not exist in repository ${a.repositoryName}`;
      return `snapshot ${id} in repository ${a.repositoryName} cannot be read: ${errorMessage(err)}`;
    }
  }
}

/**
 * options.offline: a backup the agent ran on its own (controller/offline/): no session existed
 * when it ran, so its snapshot has the session's name (the scheduled name) but no session uid.
 * options.repositories: where opened repositories are kept (tests; default the controller's).
 */
export async function checkReportedResult(store: ResourceStore, session: Resource<BackupSessionSpec | RestoreSessionSpec, unknown>, result: SessionResult, signal: AbortSignal, options: { offline?: boolean; repositories?: RepositoryCache } = {}): Promise<CheckedResult> {
  const repositories = options.repositories ?? checkedRepositories;
  if (result.phase !== 'Succeeded') return { result };
  const what = `${session.kind} ${session.metadata.namespace}/${session.metadata.name}`;
  if (result.snapshotId === undefined) return rejection(result, `the agent reported ${what} Succeeded without a snapshotId`);
  let a: SessionAssignment;
  try {
    a = session.kind === 'BackupSession'
      ? await backupAssignment(store, session as Resource<BackupSessionSpec, unknown>, Date.now())
      : await restoreAssignment(store, session as Resource<RestoreSessionSpec, unknown>, Date.now());
  } catch (err) {
    return rejection(result, `cannot check the result of ${what}: ${errorMessage(err)}`);
  }
  const snap = await snapshotOf(a, result.snapshotId, signal, repositories);
  if (typeof snap === 'string') return rejection(result, `the agent reported ${what} Succeeded, but ${snap}`);
  const labels = `host ${JSON.stringify(snap.hostname ?? '')}, tags ${JSON.stringify(snap.tags ?? [])}`;
  if (a.kind === 'BackupSession') {
    if (options.offline) delete a.sessionUid;
    if (!snapshotBelongsToSession(snap, { snapshotHost: a.snapshotHost, name: a.name, target: a.target, sessionUid: a.sessionUid })) {
      return rejection(result, `the agent reported snapshot ${snap.id} for ${what}, but it was not written by this session (${labels}; expected host ${JSON.stringify(a.snapshotHost)}, tags "target=${a.target}", "session=${a.name}"${a.sessionUid ? ` and "session-uid=${a.sessionUid}"` : ''})`);
    }
  } else if (a.snapshot === 'latest') {
    if (!snapshotBelongsToTarget(snap, { snapshotHost: a.snapshotHost, target: a.target, sourceHost: a.sourceHost })) {
      const whose = a.sourceHost === undefined ? `one of target ${a.target}'s snapshots` : `a snapshot of source host ${JSON.stringify(a.sourceHost)} (hostname ${JSON.stringify(a.sourceHost)}, the one path /dumpfile.sql, no sidestash tags)`;
      return rejection(result, `the agent restored snapshot ${snap.id} for ${what}, but it is not ${whose} (${labels}, paths ${JSON.stringify(snap.paths ?? [])})`);
    }
  } else if (!snap.id.startsWith(a.snapshot)) {
    return rejection(result, `the agent restored snapshot ${snap.id} for ${what}, but the session asked for ${a.snapshot}`);
  }
  return { result };
}
