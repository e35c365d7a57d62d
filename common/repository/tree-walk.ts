// Walks the trees of snapshots and collects every blob they reference.
import type { CallOptions } from '../backend/backend.ts';
import type { Id } from './ids.ts';
import { MasterIndex } from './master-index.ts';
import type { Repository } from './repository.ts';
import { loadTree } from './snapshot.ts';
import type { Snapshot, TreeNode } from './snapshot.ts';

export interface WalkVisitor {
  /** Called once per distinct tree; `node` is undefined for snapshot roots. */
  onFile?(node: TreeNode, treeId: Id): void | Promise<void>;
  /** A tree could not be loaded; the walk goes on. Without it, the error is thrown. */
  onTreeError?(treeId: Id, err: unknown): void;
}

/** Returns the set of used blobs as MasterIndex keys (see MasterIndex.key). */
export async function collectUsedBlobs(repo: Repository, snapshots: readonly Snapshot[], visitor: WalkVisitor = {}, options: CallOptions = {}): Promise<Set<string>> {
  const used = new Set<string>();
  const pending: Id[] = [];
  for (const s of snapshots) pending.push(s.tree);
  while (pending.length > 0) {
    const treeId = pending.pop()!;
    const key = MasterIndex.key('tree', treeId);
    if (used.has(key)) continue;
    used.add(key);
    let nodes: TreeNode[];
    try {
      nodes = (await loadTree(repo, treeId, options)).nodes;
    } catch (err) {
      if (!visitor.onTreeError) throw err;
      visitor.onTreeError(treeId, err);
      continue;
    }
    for (const node of nodes) {
      if (node.type === 'dir' && node.subtree) pending.push(node.subtree);
      if (node.type === 'file') {
        for (const id of node.content ?? []) used.add(MasterIndex.key('data', id));
        await visitor.onFile?.(node, treeId);
      }
    }
  }
  return used;
}
