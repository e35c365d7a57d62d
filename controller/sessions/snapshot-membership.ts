// Which snapshots belong to what, as the controller checks an agent's report. The rule lives
// here only, so that a change to how snapshots are grouped (hostname, tags) changes it once.
import type { SnapshotJson } from '../../common/repository/snapshot.ts';

type SnapshotLabels = Pick<SnapshotJson, 'hostname' | 'tags'>;

/** Whether a snapshot was written by a backup session: the host its assignment named, and its session tag. */
export function snapshotBelongsToSession(snapshot: SnapshotLabels, session: { snapshotHost: string; name: string }): boolean {
  return snapshot.hostname === session.snapshotHost && (snapshot.tags ?? []).includes(`session=${session.name}`);
}

/** Whether "latest" for a restore's target could have resolved to this snapshot (the target's host). */
export function snapshotBelongsToTarget(snapshot: SnapshotLabels, restore: { snapshotHost: string }): boolean {
  return snapshot.hostname === restore.snapshotHost;
}
