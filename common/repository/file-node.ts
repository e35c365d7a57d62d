// The tree node of a file a snapshot holds, as `restic backup --stdin` writes one: mode 0644, the
// given time for all three times, and the writing process's user, uid and gid (which the
// snapshot records too).
import { userInfo } from 'node:os';
import type { Id } from './ids.ts';
import type { TreeNode } from './snapshot.ts';

/** The writing process's user name ('' without a passwd entry), uid and gid. */
export function writerIdentity(): { user: string; uid: number; gid: number } {
  let user = '';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry
  }
  return { user, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

export function fileTreeNode(name: string, sizeBytes: number, content: Id[], time: string): TreeNode {
  const { user, uid, gid } = writerIdentity();
  return { name, type: 'file', mode: 0o644, mtime: time, atime: time, ctime: time, uid, gid, user, size: sizeBytes, content };
}
