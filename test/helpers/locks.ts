// Lock files of a local repository as another process sees them.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Every entry of locks/, temporary files included: empty means nothing was left behind. */
export function lockEntries(repoPath: string): Promise<string[]> {
  return readdir(join(repoPath, 'locks'));
}

/**
 * Locks under their final names only. The local backend writes `<id>.tmp-…`, fsyncs it and
 * renames it; on a slow disk the temporary file is visible long before restic (which lists
 * IDs only) can see the lock, so a test waiting for "a lock" waits for this.
 */
export async function heldLocks(repoPath: string): Promise<string[]> {
  return (await lockEntries(repoPath)).filter((name) => /^[0-9a-f]{64}$/.test(name));
}
