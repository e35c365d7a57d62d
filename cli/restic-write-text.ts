// What `sidestash repo init` and `repo backup` print, in restic 0.19.1's words: text by default,
// restic's JSON message with --json. Pure functions of what the command did.
import type { SnapshotSummary } from '../common/repository/snapshot-summary.ts';
import { parseTime } from '../common/repository/time.ts';
import { resticBytes } from './restic-text.ts';

/** `init`: restic prints the id's first 10 hex digits (cmd_init.go). */
export function initText(id: string, location: string): string {
  return [
    `created restic repository ${id.slice(0, 10)} at ${location}`,
    '',
    'Please note that knowledge of your password is required to access',
    'the repository. Losing your password means that your data is',
    'irrecoverably lost.',
  ].join('\n');
}

/** `init --json`: restic 0.19's "initialized" message. */
export function initJson(id: string, location: string): Record<string, unknown> {
  return { message_type: 'initialized', id, repository: location };
}

/** restic's ui.FormatSeconds: "m:ss", or "h:mm:ss" from an hour on. */
export function resticDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Seconds from the summary's backup_start to its backup_end (0 when either is unreadable). */
export function summaryDurationSeconds(s: Pick<SnapshotSummary, 'backup_start' | 'backup_end'>): number {
  const a = parseTime(s.backup_start);
  const b = parseTime(s.backup_end);
  if (!a || !b) return 0;
  return Math.max(0, (b.epochMs - a.epochMs) / 1000 + (b.subMsNanos - a.subMsNanos) / 1e9);
}

const count = (n: number): string => String(n).padStart(5);

/** `backup`'s report (restic's textual summary of a backup of standard input). */
export function backupText(snapshotId: string, s: SnapshotSummary): string {
  return [
    '',
    `Files:       ${count(s.files_new)} new, ${count(s.files_changed)} changed, ${count(s.files_unmodified)} unmodified`,
    `Dirs:        ${count(s.dirs_new)} new, ${count(s.dirs_changed)} changed, ${count(s.dirs_unmodified)} unmodified`,
    `Added to the repository: ${resticBytes(s.data_added).padEnd(5)} (${resticBytes(s.data_added_packed).padEnd(5)} stored)`,
    '',
    `processed ${s.total_files_processed} files, ${resticBytes(s.total_bytes_processed)} in ${resticDuration(summaryDurationSeconds(s))}`,
    `snapshot ${snapshotId.slice(0, 8)} saved`,
  ].join('\n');
}

/** `backup --json`: restic 0.19's "summary" message, in its field order. */
export function backupJson(snapshotId: string, s: SnapshotSummary): Record<string, unknown> {
  return {
    message_type: 'summary',
    files_new: s.files_new,
    files_changed: s.files_changed,
    files_unmodified: s.files_unmodified,
    dirs_new: s.dirs_new,
    dirs_changed: s.dirs_changed,
    dirs_unmodified: s.dirs_unmodified,
    data_blobs: s.data_blobs,
    tree_blobs: s.tree_blobs,
    data_added: s.data_added,
    data_added_packed: s.data_added_packed,
    total_files_processed: s.total_files_processed,
    total_bytes_processed: s.total_bytes_processed,
    total_duration: summaryDurationSeconds(s),
    backup_start: s.backup_start,
    backup_end: s.backup_end,
    snapshot_id: snapshotId,
  };
}

/** `unlock`: restic says nothing when there was no lock. */
export function unlockText(removed: number): string | undefined {
  return removed > 0 ? `successfully removed ${removed} locks` : undefined;
}

/**
 * The location as given, as restic prints it (location.StripPassword): a rest: URL's password
 * left out, its user name kept.
 */
export function displayLocation(given: string): string {
  return given.replace(/^(rest:[a-z][a-z0-9+.-]*:\/\/)([^/@:]*):[^/@]*@/i, '$1$2@');
}
