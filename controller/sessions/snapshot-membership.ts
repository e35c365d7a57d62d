// Which snapshots belong to what, as the controller checks an agent's report. The grouping
// rule itself (hostname plus namespace=/target= tags) lives in one place,
// common/repository/snapshot-selector.ts, which the agent's retention and `latest` use too;
// this file only applies it to what a session's assignment says.
import { isSessionSnapshot, isSourceHostSnapshot, parseTargetRef, snapshotOwnership } from '../../common/repository/snapshot-selector.ts';
import type { SnapshotJson } from '../../common/repository/snapshot.ts';

type SnapshotLabels = Pick<SnapshotJson, 'hostname' | 'tags'> & Partial<Pick<SnapshotJson, 'paths'>>;

/**
 * Whether a snapshot was written by a backup session: the host its assignment named, the
 * session's target (namespace and AppBinding), its `session=<name>` tag and, when the session
 * has a uid, its `session-uid=<uid>` tag.
 */
export function snapshotBelongsToSession(snapshot: SnapshotLabels, session: { snapshotHost: string; name: string; target: string; sessionUid?: string | undefined }): boolean {
  const t = parseTargetRef(session.target);
  return t !== undefined && snapshot.hostname === session.snapshotHost && isSessionSnapshot(snapshot, t, session.name, session.sessionUid);
}

/**
 * Whether "latest" for a restore could have resolved to this snapshot: one of the target's own,
 * or, when the restore names a sourceHost, a Stash-written dump of that host.
 */
export function snapshotBelongsToTarget(snapshot: SnapshotLabels, restore: { snapshotHost: string; target: string; sourceHost?: string | undefined }): boolean {
  if (restore.sourceHost !== undefined) return isSourceHostSnapshot(snapshot, restore.sourceHost);
  const t = parseTargetRef(restore.target);
  return t !== undefined && snapshot.hostname === restore.snapshotHost && snapshotOwnership(snapshot, t) === 'target';
}
